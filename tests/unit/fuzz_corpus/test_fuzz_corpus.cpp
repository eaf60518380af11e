// Fast regression for the libFuzzer targets of tests/fuzz, for the normal build (any compiler,
// no libFuzzer): every target's LLVMFuzzerTestOneInput runs over its seed corpus
// (tests/fuzz/corpus/<target>/, which also holds the inputs of crashes found and fixed) and over
// deterministic random mutations of it, so a regression shows up in seconds in CI.
//
// SLUICE_FUZZ_MUTATIONS=<n> changes the number of mutations per target (default 3000).
// A crash (or a failed SLUICE_FUZZ_CHECK, which aborts) prints the target and the input and
// saves the input to $TMPDIR/sluice-fuzz-crash-<target> for `fuzz_<target> <file>`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/log.h"
#include "fuzz_registry.h"

namespace sluice::fuzz_corpus {
namespace {

namespace fs = std::filesystem;

std::map<std::string, Entry>& targets() {
  static std::map<std::string, Entry> t;
  return t;
}

// What is running, for the crash handler (plain globals: read from a signal handler).
const char* g_target = nullptr;
const uint8_t* g_data = nullptr;
size_t g_size = 0;
char g_what[256];
char g_crash_path[512];

void write_all(int fd, const void* p, size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w <= 0) return;
    c += w;
    n -= static_cast<size_t>(w);
  }
}
void say(const char* s) { write_all(2, s, std::strlen(s)); }

void on_crash(int sig) {
  if (g_target) {
    say("\n*** fuzz corpus test: crash in target ");
    say(g_target);
    say(" on ");
    say(g_what);
    int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      write_all(fd, g_data, g_size);
      ::close(fd);
      say("; input saved to ");
      say(g_crash_path);
    }
    say("\n");
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run_one(const char* target, Entry entry, const std::string& input, const std::string& what) {
  g_target = target;
  g_data = reinterpret_cast<const uint8_t*>(input.data());
  g_size = input.size();
  std::snprintf(g_what, sizeof g_what, "%s", what.c_str());
  // libFuzzer never passes a null pointer; an exact-size heap copy lets ASan see overreads.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[input.size() + 1]);
  std::memcpy(copy.get(), input.data(), input.size());
  entry(copy.get(), input.size());
  g_target = nullptr;
}

std::vector<std::pair<std::string, std::string>> load_corpus(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> seeds;
  if (!fs::is_directory(dir)) return seeds;
  for (auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    seeds.emplace_back(e.path().filename().string(),
                       std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  std::sort(seeds.begin(), seeds.end());  // directory order is not deterministic
  return seeds;
}

// Tokens that matter to the parsers under test (JSON, CRI, config, times, pos_file).
const char* const kTokens[] = {
    "\n", "\t", " ", "\"", "\\", "\\u", "\\ud800", "\\udc00", "\\u0000", "{", "}", "[", "]", ":", ",",
    "null", "true", "false", "-0", "1e999", "-9223372036854775809", "18446744073709551616", "0.5e-400",
    "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98\x80", " stdout F ", " stderr P ", "Z", "+09:00", "-0530",
    "2024-05-01T12:00:00.123456789Z", "{\"log\":\"", "\\n\",\"stream\":\"stdout\",\"time\":\"", "\"}",
    "<source>", "</source>", "<match **>", "</match>", "@type ", "#{", "\"#{ENV['X']}\"", "%Y", "%N",
    "\"items\":[", "\"errors\":true", "\"status\":429", "\"metadata\":{", "\"containerStatuses\":[",
    "ffffffffffffffff", "0000000000000001"};

// One to four stacked mutations of a seed (libFuzzer-like: bytes, tokens, ranges, splices).
std::string mutate(std::mt19937_64& rng, const std::vector<std::pair<std::string, std::string>>& seeds) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  std::string s = seeds.empty() ? std::string() : seeds[pick(seeds.size())].second;
  int rounds = 1 + static_cast<int>(pick(4));
  for (int r = 0; r < rounds; ++r) {
    switch (pick(9)) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:
        if (!s.empty()) s[pick(s.size())] = "\0\xff\n\"\\{}[]: \t\x80\xc3"[pick(15)];
        break;
      case 2: s.insert(pick(s.size() + 1), kTokens[pick(std::size(kTokens))]); break;
      case 3:
        if (!s.empty()) {
          size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 4:
        if (!s.empty()) {  // repeat a range (deep nesting, long lines)
          size_t at = pick(s.size()), len = 1 + pick(std::min<size_t>(32, s.size() - at));
          std::string chunk = s.substr(at, len), rep;
          for (size_t k = 1 + pick(200); k > 0; --k) rep += chunk;
          s.insert(at, rep);
        }
        break;
      case 5:
        if (!seeds.empty()) {  // splice: a prefix of this with a suffix of another seed
          const std::string& o = seeds[pick(seeds.size())].second;
          s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size() + 1));
        }
        break;
      case 6: s.resize(pick(s.size() + 1)); break;
      case 7:
        for (size_t k = pick(16); k > 0; --k) s.insert(pick(s.size() + 1), 1, static_cast<char>(rng()));
        break;
      case 8:
        if (!s.empty()) {  // a digit into another number
          size_t at = s.find_first_of("0123456789", pick(s.size()));
          if (at != std::string::npos) s[at] = "0919"[pick(4)];
        }
        break;
    }
  }
  if (s.size() > 65536) s.resize(65536);
  return s;
}

size_t mutations_per_target() {
  if (const char* e = std::getenv("SLUICE_FUZZ_MUTATIONS")) return std::strtoull(e, nullptr, 10);
  return 3000;
}

class FuzzCorpusTest : public testing::Test {
 public:
  FuzzCorpusTest(std::string name, Entry entry) : name_(std::move(name)), entry_(entry) {}
  void TestBody() override {
    const char* tmp = std::getenv("TMPDIR");
    std::snprintf(g_crash_path, sizeof g_crash_path, "%s/sluice-fuzz-crash-%s", tmp && *tmp ? tmp : "/tmp",
                  name_.c_str());
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_crash);
    log::set_level(log::Level::Error);  // the parsers' "kept as raw" warnings are expected here

    auto seeds = load_corpus(fs::path(SLUICE_SOURCE_DIR) / "tests/fuzz/corpus" / name_);
    // Mutations of nothing reach little of a parser: a target must have seeds (a misnamed corpus
    // directory once left the forward target running on the empty input alone).
    EXPECT_FALSE(seeds.empty()) << "no seeds in tests/fuzz/corpus/" << name_;
    run_one(name_.c_str(), entry_, "", "the empty input");
    for (auto& [file, bytes] : seeds) run_one(name_.c_str(), entry_, bytes, "seed " + file);

    std::seed_seq seq(name_.begin(), name_.end());
    std::mt19937_64 rng(seq);
    const size_t n = mutations_per_target();
    for (size_t i = 0; i < n; ++i)
      run_one(name_.c_str(), entry_, mutate(rng, seeds), "mutation " + std::to_string(i));
  }

 private:
  std::string name_;
  Entry entry_;
};

// Every tests/fuzz/fuzz_<name>.cpp must have its target_<name>.cpp here.
TEST(FuzzCorpus, EveryTargetIsCompiledIn) {
  size_t found = 0;
  for (auto& e : fs::directory_iterator(fs::path(SLUICE_SOURCE_DIR) / "tests/fuzz")) {
    std::string f = e.path().filename().string();
    if (f.rfind("fuzz_", 0) != 0 || e.path().extension() != ".cpp") continue;
    ++found;
    std::string name = f.substr(5, f.size() - 5 - 4);
    EXPECT_TRUE(targets().count(name)) << f << " has no tests/unit/fuzz_corpus/target_" << name << ".cpp";
  }
  EXPECT_GT(found, 0u);
}

}  // namespace

bool register_target(const char* name, Entry entry) {
  targets()[name] = entry;
  std::string n = name;
  testing::RegisterTest("FuzzCorpus", name, nullptr, nullptr, __FILE__, __LINE__,
                        [n, entry]() -> testing::Test* { return new FuzzCorpusTest(n, entry); });
  return true;
}

}  // namespace sluice::fuzz_corpus

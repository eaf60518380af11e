// in_systemd: config pieces, and the input on a real libuv loop reading journal files built with
// systemd-journal-remote from export-format text.
#include <gtest/gtest.h>
#include <uv.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/delivery.h"
#include "core/registry.h"
#include "support/test_support.h"
#include "systemd_config.h"

namespace sluice {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

// ---- config pieces ----

TEST(SystemdConfig, MatchesAreOrOfAndGroups) {
  auto g = systemd::parse_matches(
      R"([{ "_SYSTEMD_UNIT": "kubelet.service" }, {"PRIORITY": ["3", "4"], "_UID": "0"}])");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0], std::vector<std::string>{"_SYSTEMD_UNIT=kubelet.service"});
  EXPECT_EQ(g[1], (std::vector<std::string>{"PRIORITY=3", "PRIORITY=4", "_UID=0"}));
  EXPECT_THROW(systemd::parse_matches(R"({"a": "b"})"), std::runtime_error);
  EXPECT_THROW(systemd::parse_matches(R"([{"a": "b"})"), std::runtime_error);
  EXPECT_THROW(systemd::parse_matches(R"([{"a": {"b": "c"}}])"), std::runtime_error);
}

TEST(SystemdConfig, EntryMutatorAsTheRubyOne) {
  systemd::EntryMutator::Options o;
  o.field_map = systemd::EntryMutator::parse_field_map(
      R"({"MESSAGE": "log", "_PID": ["process", "pid"], "_CMDLINE": "process"})");
  o.strip_underscores = true;
  o.lowercase = true;
  systemd::EntryMutator m(o);
  std::vector<std::pair<std::string_view, std::string_view>> in = {
      {"MESSAGE", "hi"}, {"_PID", "42"}, {"_CMDLINE", "/bin/x"}, {"_SYSTEMD_UNIT", "k.service"}};
  std::vector<std::string> storage;
  auto out = m.run(in, storage);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].first, "log");
  EXPECT_EQ(out[0].second, "hi");
  EXPECT_EQ(out[1].first, "process");
  EXPECT_EQ(out[1].second, "42 /bin/x");
  EXPECT_EQ(out[2].first, "pid");
  EXPECT_EQ(out[3].first, "systemd_unit");

  o.field_map_strict = true;
  systemd::EntryMutator strict(o);
  EXPECT_EQ(strict.run(in, storage).size(), 3u);
}

TEST(SystemdConfig, CursorFile) {
  std::string c = "s=abc;i=1;b=def;m=3e8;t=60a;x=88";
  EXPECT_EQ(systemd::cursor_file_text(c), "{\"journal\":\"" + c + "\"}");
  EXPECT_EQ(systemd::cursor_from_file_text(systemd::cursor_file_text(c)).value(), c);
  EXPECT_FALSE(systemd::cursor_from_file_text("{\"journal\":\"abc").has_value());  // torn
  EXPECT_FALSE(systemd::cursor_from_file_text("").has_value());
}

// ---- the input ----

const char* kBoot = "0123456789abcdef0123456789abcdef";

std::string entry(uint64_t usec, const std::string& unit, const std::string& message) {
  return "__REALTIME_TIMESTAMP=" + std::to_string(usec) + "\n__MONOTONIC_TIMESTAMP=" +
         std::to_string(usec % 1000000000) + "\n_BOOT_ID=" + kBoot + "\n_SYSTEMD_UNIT=" + unit +
         "\nMESSAGE=" + message + "\nPRIORITY=6\n\n";
}

// Writes `export_text` into DIR/NAME.journal with systemd-journal-remote.
void make_journal(const TempDir& dir, const std::string& journal_dir, const std::string& name,
                  const std::string& export_text) {
  std::string in = dir.file(name + ".export");
  write_file(in, export_text);
  std::string cmd = "/lib/systemd/systemd-journal-remote -o " + journal_dir + "/" + name + ".journal - < " + in +
                    " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

struct Got {
  std::string tag;
  int64_t sec;
  uint32_t nsec;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string get(const std::string& k) const {
    for (auto& f : fields)
      if (f.first == k) return f.second;
    return "<none>";
  }
};

class CapturingEmitter : public Emitter {
 public:
  void emit(Batch& batch) override {
    for (auto& r : batch.records) {
      Got g{std::string(batch.tag), r.time.sec, r.time.nsec, {}};
      for (auto* f = batch.begin(r); f != batch.end(r); ++f) g.fields.emplace_back(f->key, f->value.text);
      out.push_back(std::move(g));
    }
    if (batch.claim && hold_claims) {
      batch.claim->retain();
      held.push_back(batch.claim);
    }
  }
  void ack_all() {
    for (Claim* c : held) c->release();
    held.clear();
  }
  std::vector<Got> out;
  std::vector<Claim*> held;
  bool hold_claims = false;
};

class SystemdInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_all_plugins(registry_);
    uv_loop_init(&loop_);
    jdir_ = dir_.file("journal");
    ASSERT_EQ(std::system(("mkdir -p " + jdir_).c_str()), 0);
  }
  void TearDown() override {
    stop();
    uv_loop_close(&loop_);
  }
  std::string config(const std::string& extra = "") {
    return "<source>\n  @type systemd\n  path " + jdir_ +
           "\n  matches [{ \"_SYSTEMD_UNIT\": \"kubelet.service\" }]\n"
           "  <storage>\n    @type local\n    persistent true\n    path " +
           dir_.file("cursor.json") +
           "\n  </storage>\n  <entry>\n    fields_strip_underscores true\n  </entry>\n"
           "  read_from_head true\n  tag kubelet\n" +
           extra + "</source>\n";
  }
  void start(const std::string& text) {
    auto parsed = parse_config_text(text, "test.conf", dir_.path());
    ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].to_string();
    root_ = parsed.root;
    const ConfigSection& source = root_.children.at(0);
    ctx_.loop = &loop_;
    ctx_.registry = &registry_;
    ctx_.metrics = &metrics_;
    ctx_.flow = &flow_;
    ctx_.section = &source;
    ctx_.id = "in_systemd_test";
    ctx_.emitter = &emitter_;
    Params params(source, *registry_.spec("input", "systemd"));
    input_ = (*registry_.input("systemd"))(ctx_, params);
    input_->start();
  }
  void stop() {
    if (!input_) return;
    input_->stop();
    input_->finish();
    input_.reset();
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  void run_for(int ms) {
    uv_timer_t t;
    uv_timer_init(&loop_, &t);
    uv_timer_start(&t, [](uv_timer_t* h) { uv_stop(h->loop); }, ms, 0);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  TempDir dir_;
  std::string jdir_;
  uv_loop_t loop_;
  Registry registry_;
  Metrics metrics_;
  FlowControl flow_;
  PluginContext ctx_;
  ConfigSection root_;
  CapturingEmitter emitter_;
  std::unique_ptr<Input> input_;
};

TEST_F(SystemdInputTest, MatchesStripUnderscoresTagAndTime) {
  make_journal(dir_, jdir_, "a",
               entry(1700000000123456, "kubelet.service", "k1") + entry(1700000001000000, "docker.service", "d1") +
                   entry(1700000002000000, "kubelet.service", "k2"));
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 2u);
  const Got& g = emitter_.out[0];
  EXPECT_EQ(g.tag, "kubelet");
  EXPECT_EQ(g.sec, 1700000000);
  EXPECT_EQ(g.nsec, 123456000u);
  EXPECT_EQ(g.get("SYSTEMD_UNIT"), "kubelet.service");
  EXPECT_EQ(g.get("_SYSTEMD_UNIT"), "<none>");
  EXPECT_EQ(g.get("BOOT_ID"), kBoot);
  EXPECT_EQ(g.get("MESSAGE"), "k1");
  EXPECT_EQ(g.get("PRIORITY"), "6");
  EXPECT_EQ(emitter_.out[1].get("MESSAGE"), "k2");
  EXPECT_TRUE(input_->at_eof());
}

TEST_F(SystemdInputTest, CursorWrittenAfterAckAndRestartContinues) {
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "k1") +
                                     entry(1700000001000000, "kubelet.service", "k2"));
  emitter_.hold_claims = true;
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 2u);
  EXPECT_FALSE(std::ifstream(dir_.file("cursor.json")).good()) << "no cursor before the outputs acknowledge";
  emitter_.ack_all();
  std::string cursor = read_file(dir_.file("cursor.json"));
  EXPECT_NE(cursor.find("{\"journal\":\"s="), std::string::npos) << cursor;
  stop();

  // A later journal file: the restart reads only what follows the cursor.
  make_journal(dir_, jdir_, "b", entry(1700000002000000, "kubelet.service", "k3"));
  emitter_.out.clear();
  emitter_.hold_claims = false;
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].get("MESSAGE"), "k3");
}

TEST_F(SystemdInputTest, UnacknowledgedEntriesAreReadAgainAfterRestart) {
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "k1"));
  start(config());
  run_for(300);
  stop();
  make_journal(dir_, jdir_, "b", entry(1700000001000000, "kubelet.service", "k2"));
  emitter_.out.clear();
  emitter_.hold_claims = true;
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 1u);
  emitter_.held.clear();  // never acknowledged: a crash before delivery
  input_.reset();
  uv_run(&loop_, UV_RUN_NOWAIT);
  emitter_.out.clear();
  emitter_.hold_claims = false;
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].get("MESSAGE"), "k2");
}

TEST_F(SystemdInputTest, FileWrittenLaterIsPickedUp) {
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "k1"));
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 1u);
  make_journal(dir_, jdir_, "b", entry(1700000001000000, "kubelet.service", "k2"));
  run_for(1500);
  ASSERT_EQ(emitter_.out.size(), 2u);
  EXPECT_EQ(emitter_.out[1].get("MESSAGE"), "k2");
}

TEST_F(SystemdInputTest, ReadFromTailSkipsOldEntries) {
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "old"));
  std::string text = config();
  text.replace(text.find("read_from_head true"), 19, "read_from_head false");
  start(text);
  run_for(300);
  EXPECT_TRUE(emitter_.out.empty());
  make_journal(dir_, jdir_, "b", entry(1700000001000000, "kubelet.service", "new"));
  run_for(1500);
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].get("MESSAGE"), "new");
}

TEST_F(SystemdInputTest, BlockedFlowStopsReadingUntilResumed) {
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "k1"));
  int holder;
  flow_.hold(&holder);
  start(config());
  run_for(300);
  EXPECT_TRUE(emitter_.out.empty());
  flow_.release(&holder);
  run_for(100);
  EXPECT_EQ(emitter_.out.size(), 1u);
}

TEST_F(SystemdInputTest, MissingDirectoryIsNotACrash) {
  jdir_ = dir_.file("absent");
  start(config());
  run_for(200);
  EXPECT_TRUE(emitter_.out.empty());
  // The directory appearing later is read.
  ASSERT_EQ(std::system(("mkdir -p " + jdir_).c_str()), 0);
  make_journal(dir_, jdir_, "a", entry(1700000000000000, "kubelet.service", "k1"));
  run_for(1500);
  EXPECT_EQ(emitter_.out.size(), 1u);
}

TEST_F(SystemdInputTest, BinaryValuesKeptAndLargeValuesBounded) {
  std::string bin("a\x01\0b\nc", 6);
  std::string e = "__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=" + std::string(kBoot) +
                  "\n_SYSTEMD_UNIT=kubelet.service\nMESSAGE\n";
  uint64_t n = bin.size();
  e.append(reinterpret_cast<const char*>(&n), 8);  // little-endian size (x86/arm64)
  e += bin + "\nBIG=" + std::string(100000, 'x') + "\n\n";
  make_journal(dir_, jdir_, "a", e);
  start(config());
  run_for(300);
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].get("MESSAGE"), bin);
  std::string big = emitter_.out[0].get("BIG");
  EXPECT_LE(big.size(), 64u * 1024);
  EXPECT_GT(big.size(), 0u);
}

TEST_F(SystemdInputTest, BadMatchesIsAConfigError) {
  std::string text = config();
  text.replace(text.find("\"kubelet.service\""), 17, "{\"a\": \"b\"}");
  auto parsed = parse_config_text(text, "test.conf", dir_.path());
  ASSERT_TRUE(parsed.errors.empty());
  root_ = parsed.root;
  ctx_.loop = &loop_;
  ctx_.registry = &registry_;
  ctx_.metrics = &metrics_;
  ctx_.flow = &flow_;
  ctx_.emitter = &emitter_;
  ctx_.section = &root_.children.at(0);
  Params params(root_.children.at(0), *registry_.spec("input", "systemd"));
  EXPECT_THROW((*registry_.input("systemd"))(ctx_, params), ConfigException);
}

}  // namespace
}  // namespace sluice

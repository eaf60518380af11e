#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/delivery.h"
#include "core/registry.h"

using namespace sluice;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory()) out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

struct Env {
  Registry reg;
  PluginContext ctx;
  ConfigSection section;
  std::string dir;
  Env() {
    setenv("TZ", "UTC", 1);
    tzset();
    register_all_plugins(reg);
    ctx.registry = &reg;
    ctx.id = "file0";
    char tmpl[] = "/tmp/sluice-out-file-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~Env() { fs::remove_all(dir); }

  std::unique_ptr<Output> make(std::vector<ConfigParam> params,
                               std::vector<ConfigSection> children = {}) {
    section = {"match", "**", {"t.conf", 1}, {{"@type", "file", {"t.conf", 2}}}, {}};
    for (auto& p : params) section.params.push_back(p);
    section.children = std::move(children);
    auto errors = validate_params(section, *reg.spec("output", "file"));
    for (auto& e : errors) ADD_FAILURE() << e.to_string();
    return ctx.make_output(section, "x");
  }
};

ConfigSection buffer_section(const std::string& keys, std::vector<ConfigParam> params = {}) {
  return {"buffer", keys, {"t.conf", 5}, std::move(params), {}};
}

void close_sync(Output& out) {
  bool done = false;
  out.close([&] { done = true; });
  EXPECT_TRUE(done);
}

Batch one(std::string_view tag, EventTime t, std::vector<std::pair<std::string, Value>> fields) {
  Batch b;
  b.tag = tag;
  b.begin_record(t);
  for (auto& [k, v] : fields) b.add_field(b.arena.copy(k), v);
  return b;
}

constexpr int64_t k20240501 = 1714564800;  // 2024-05-01T12:00:00Z
constexpr int64_t k20261127 = 1795779412;  // 2026-11-27T11:36:52Z

}  // namespace

TEST(OutFile, NamingWithoutAppendFollowsFluentd) {
  Env env;
  // chunk_limit_size 1: every batch is its own chunk, as separate Fluentd chunks are.
  auto out = env.make({{"path", env.dir + "/default", {}}},
                      {buffer_section("time", {{"timekey", "1d", {}}, {"chunk_limit_size", "1", {}}})});
  auto b1 = one("test.cat.et", {k20240501, 0}, {{"msg", Value::of_string("event-time")},
                                                {"n", Value::of_int(2)}});
  auto b2 = one("test.cat", {k20240501 + 5, 0}, {{"msg", Value::of_string("again")}});
  auto b3 = one("test.cat", {k20261127, 0}, {{"msg", Value::of_string("second")},
                                             {"unicode", Value::of_string("h\xc3\xa9llo")}});
  out->write(b1);
  out->write(b2);
  out->write(b3);
  close_sync(*out);
  EXPECT_EQ(list_files(env.dir), (std::vector<std::string>{"default.20240501_0.log",
                                                           "default.20240501_1.log",
                                                           "default.20261127_0.log"}));
  EXPECT_EQ(slurp(env.dir + "/default.20240501_0.log"),
            "2024-05-01T12:00:00+00:00\ttest.cat.et\t{\"msg\":\"event-time\",\"n\":2}\n");
  EXPECT_EQ(slurp(env.dir + "/default.20261127_0.log"),
            "2026-11-27T11:36:52+00:00\ttest.cat\t{\"msg\":\"second\",\"unicode\":\"h\xc3\xa9llo\"}\n");
}

TEST(OutFile, ExistingFilesAreNotOverwritten) {
  Env env;
  { std::ofstream(env.dir + "/default.20240501_0.log") << "old\n"; }
  auto out = env.make({{"path", env.dir + "/default", {}}});
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(slurp(env.dir + "/default.20240501_0.log"), "old\n");
  EXPECT_EQ(slurp(env.dir + "/default.20240501_1.log"),
            "2024-05-01T12:00:00+00:00\tt\t{\"a\":1}\n");
}

TEST(OutFile, AppendingAfterAPartLineStartsANewLine) {
  // What a crash in the middle of writing a chunk leaves; the chunk is written again in full.
  Env env;
  { std::ofstream(env.dir + "/app.20240501.log") << "2024-05-01T12:00:00+00:00\tt\t{\"a\":1}\n2024-05-01T1"; }
  auto out = env.make({{"path", env.dir + "/app", {}}, {"append", "true", {}}});
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(2)}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(slurp(env.dir + "/app.20240501.log"),
            "2024-05-01T12:00:00+00:00\tt\t{\"a\":1}\n2024-05-01T1\n"
            "2024-05-01T12:00:00+00:00\tt\t{\"a\":2}\n");
}

TEST(OutFile, AppendWithTagPlaceholderAndDate) {
  Env env;
  auto out = env.make({{"path", env.dir + "/${tag}/app.%Y%m%d", {}}, {"append", "true", {}}},
                      {buffer_section("tag,time", {{"chunk_limit_size", "1", {}}})});
  auto b1 = one("test.cat", {k20261127, 0}, {{"msg", Value::of_string("first")}});
  auto b2 = one("test.cat", {k20261127 + 1, 0}, {{"msg", Value::of_string("second")}});
  auto b3 = one("other", {k20261127, 0}, {{"msg", Value::of_string("x")}});
  out->write(b1);
  out->write(b2);
  out->write(b3);
  close_sync(*out);
  EXPECT_EQ(list_files(env.dir),
            (std::vector<std::string>{"other/app.20261127.log", "test.cat/app.20261127.log"}));
  EXPECT_EQ(slurp(env.dir + "/test.cat/app.20261127.log"),
            "2026-11-27T11:36:52+00:00\ttest.cat\t{\"msg\":\"first\"}\n"
            "2026-11-27T11:36:53+00:00\ttest.cat\t{\"msg\":\"second\"}\n");
}

TEST(OutFile, TagPartsAndNoTimeKey) {
  Env env;
  auto out = env.make({{"path", env.dir + "/${tag[0]}/${tag[-1]}", {}}, {"append", "true", {}}},
                      {buffer_section("tag")});
  auto b = one("kubernetes.var.log.app", {k20240501, 0}, {{"a", Value::of_int(1)}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(list_files(env.dir), (std::vector<std::string>{"kubernetes/app.log"}));
}

TEST(OutFile, StarPathAndNoSuffix) {
  Env env;
  auto out = env.make({{"path", env.dir + "/app.*.txt", {}}, {"add_path_suffix", "false", {}}},
                      {buffer_section("time", {{"timekey", "1h", {}}})});
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(list_files(env.dir), (std::vector<std::string>{"app.2024050112_0.txt"}));
}

TEST(OutFile, EdgeCaseEncodingIsYajl) {
  Env env;
  auto out = env.make({{"path", env.dir + "/edge", {}}, {"append", "true", {}}});
  auto b = one("t", {k20240501, 999999999},
               {{"message", Value::of_string("bad\xff\xfe" "bytes ctrl\x01\x1f del\x7f "
                                             "ls\xe2\x80\xa8 emoji\xf0\x9f\x98\x80 tab\there")}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(slurp(env.dir + "/edge.20240501.log"),
            "2024-05-01T12:00:00+00:00\tt\t{\"message\":\"bad\xff\xfe" "bytes ctrl\\u0001\\u001F "
            "del\x7f ls\xe2\x80\xa8 emoji\xf0\x9f\x98\x80 tab\\there\"}\n");
}

TEST(OutFile, GzipReadableByZlib) {
  Env env;
  auto out = env.make({{"path", env.dir + "/z", {}}, {"append", "true", {}}, {"compress", "gzip", {}}},
                      {buffer_section("time", {{"chunk_limit_size", "1", {}}})});
  auto b1 = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  auto b2 = one("t", {k20240501, 0}, {{"a", Value::of_int(2)}});
  out->write(b1);
  out->write(b2);  // a second gzip member appended to the same file
  close_sync(*out);
  std::string path = env.dir + "/z.20240501.log.gz";
  ASSERT_TRUE(fs::exists(path));
  gzFile gz = gzopen(path.c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::string text;
  char buf[4096];
  int n;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  gzclose(gz);
  EXPECT_EQ(text,
            "2024-05-01T12:00:00+00:00\tt\t{\"a\":1}\n2024-05-01T12:00:00+00:00\tt\t{\"a\":2}\n");
}

TEST(OutFile, ClaimsReleasedOnlyAfterWrite) {
  Env env;
  auto out = env.make({{"path", env.dir + "/c", {}}});
  DeliveryTracker tracker;
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  b.claim = tracker.open(100);
  out->write(b);
  b.claim->release();  // the source's own reference
  EXPECT_EQ(tracker.committed(), 0u);
  EXPECT_TRUE(list_files(env.dir).empty());
  close_sync(*out);  // flush_at_shutdown
  EXPECT_EQ(tracker.committed(), 100u);
  EXPECT_EQ(list_files(env.dir).size(), 1u);
}

TEST(OutFile, WriteErrorKeepsChunkAndRetries) {
  Env env;
  { std::ofstream(env.dir + "/blocker") << "x"; }
  auto out = env.make({{"path", env.dir + "/blocker/sub/f", {}}, {"append", "true", {}}},
                      {buffer_section("time", {{"chunk_limit_size", "1", {}}})});
  DeliveryTracker tracker;
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  b.claim = tracker.open(10);
  out->write(b);  // mkdir fails: ENOTDIR, logged with the path
  b.claim->release();
  EXPECT_EQ(tracker.committed(), 0u);
  fs::remove(env.dir + "/blocker");
  close_sync(*out);
  EXPECT_EQ(tracker.committed(), 10u);
  EXPECT_EQ(slurp(env.dir + "/blocker/sub/f.20240501.log"),
            "2024-05-01T12:00:00+00:00\tt\t{\"a\":1}\n");
}

TEST(OutFile, FlushAtShutdownFalseKeepsClaims) {
  Env env;
  auto out = env.make({{"path", env.dir + "/c", {}}},
                      {buffer_section("time", {{"flush_at_shutdown", "false", {}}})});
  DeliveryTracker tracker;
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  b.claim = tracker.open(5);
  out->write(b);
  b.claim->release();
  close_sync(*out);
  EXPECT_EQ(tracker.committed(), 0u);
  EXPECT_TRUE(list_files(env.dir).empty());
}

TEST(OutFile, FormatsJsonAndSingleValue) {
  Env env;
  ConfigSection fmt{"format", "", {"t.conf", 7}, {{"@type", "json", {}}}, {}};
  auto out = env.make({{"path", env.dir + "/j", {}}, {"append", "true", {}}}, {fmt});
  auto b = one("t", {k20240501, 0}, {{"message", Value::of_string("x\x1f")}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(slurp(env.dir + "/j.20240501.log"), "{\"message\":\"x\\u001f\"}\n");  // Oj default

  Env env2;
  ConfigSection sv{"format", "", {"t.conf", 7},
                   {{"@type", "single_value", {}}, {"add_newline", "false", {}}}, {}};
  auto out2 = env2.make({{"path", env2.dir + "/s", {}}, {"append", "true", {}}}, {sv});
  out2->write(b);
  out2->write(b);
  close_sync(*out2);
  EXPECT_EQ(slurp(env2.dir + "/s.20240501.log"), "x\x1fx\x1f");
}

// out_file.rb's format: inject_values_to_record, then the formatter.
TEST(OutFile, InjectsTagAndTime) {
  Env env;
  ConfigSection fmt{"format", "", {"t.conf", 7}, {{"@type", "json", {}}}, {}};
  ConfigSection inject{"inject", "", {"t.conf", 9},
                       {{"tag_key", "tag", {}}, {"time_key", "t", {}}, {"time_type", "string", {}},
                        {"time_format", "%Y-%m-%dT%H:%M:%S.%3N", {}}, {"utc", "true", {}}},
                       {}};
  auto out = env.make({{"path", env.dir + "/i", {}}, {"append", "true", {}}}, {fmt, inject});
  auto b = one("app.x", {k20240501, 250000000}, {{"message", Value::of_string("m")}});
  out->write(b);
  close_sync(*out);
  EXPECT_EQ(slurp(env.dir + "/i.20240501.log"),
            R"({"message":"m","tag":"app.x","t":"2024-05-01T12:00:00.250"})" "\n");
}

TEST(OutFile, IntervalFlushOnLoopTimer) {
  Env env;
  uv_loop_t loop;
  uv_loop_init(&loop);
  env.ctx.loop = &loop;
  auto out = env.make({{"path", env.dir + "/i", {}}, {"append", "true", {}}},
                      {buffer_section("time", {{"flush_interval", "0.02", {}}})});
  out->start();
  DeliveryTracker tracker;
  auto b = one("t", {k20240501, 0}, {{"a", Value::of_int(1)}});
  b.claim = tracker.open(3);
  out->write(b);
  b.claim->release();
  EXPECT_EQ(tracker.committed(), 0u);
  for (int i = 0; i < 100 && tracker.committed() == 0; ++i) uv_run(&loop, UV_RUN_ONCE);
  EXPECT_EQ(tracker.committed(), 3u);
  EXPECT_TRUE(fs::exists(env.dir + "/i.20240501.log"));
  bool done = false;
  out->close([&] { done = true; });
  uv_run(&loop, UV_RUN_DEFAULT);  // returns once the timer handle is closed
  EXPECT_TRUE(done);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(OutFile, ConfigErrors) {
  Env env;
  EXPECT_THROW(env.make({{"path", env.dir + "/x", {}}}, {buffer_section("tag,$.key")}), ConfigException);
  EXPECT_THROW(env.make({{"path", env.dir + "/x.%Y", {}}}), ConfigException);  // %m%d missing
  EXPECT_THROW(env.make({{"path", env.dir + "/x*", {}}}, {buffer_section("tag")}), ConfigException);
}

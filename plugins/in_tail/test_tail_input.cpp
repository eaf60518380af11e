// in_tail on a real libuv loop with real files, routed into a capturing emitter.
#include <gtest/gtest.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "core/delivery.h"
#include "core/registry.h"
#include "support/test_support.h"
#include "tail_input.h"

namespace sluice {
namespace {

using testing::append_file;
using testing::TempDir;
using testing::write_file;

struct Captured {
  std::string tag;
  std::string message;
  uint64_t offset;
};

// Keeps the claims of what it received, like a buffering output, until told to acknowledge.
class CapturingEmitter : public Emitter {
 public:
  void emit(Batch& batch) override {
    for (auto& r : batch.records) {
      const Value* v = batch.find(r, "message");
      out.push_back({std::string(batch.tag), v ? std::string(v->text) : "", r.offset});
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
  std::vector<Captured> out;
  std::vector<Claim*> held;
  bool hold_claims = false;
};

class TailInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_all_plugins(registry_);
    uv_loop_init(&loop_);
  }
  void TearDown() override {
    input_.reset();
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
  }

  void build(const std::string& config_text) {
    auto parsed = parse_config_text(config_text, "test.conf", dir_.path());
    ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].to_string();
    root_ = parsed.root;
    const ConfigSection& source = root_.children.at(0);
    ctx_.loop = &loop_;
    ctx_.registry = &registry_;
    ctx_.metrics = &metrics_;
    ctx_.flow = &flow_;
    ctx_.section = &source;
    ctx_.id = "in_tail_test";
    ctx_.emitter = &emitter_;
    Params params(source, *registry_.spec("input", "tail"));
    input_ = (*registry_.input("tail"))(ctx_, params);
  }

  void run_for(int ms) {
    uv_timer_t t;
    uv_timer_init(&loop_, &t);
    uv_timer_start(&t, [](uv_timer_t* h) { uv_stop(h->loop); }, ms, 0);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  void shutdown() {
    input_->stop();
    input_->finish();
    run_for(10);
  }

  std::string conf(const std::string& extra = "") {
    return "<source>\n @type tail\n path " + dir_.path() + "/*.log\n tag k.*\n pos_file " +
           dir_.file("pos") + "\n pos_write_interval 0.05\n" + extra +
           "\n <parse>\n  @type none\n </parse>\n</source>\n";
  }

  TempDir dir_;
  Registry registry_;
  Metrics metrics_;
  FlowControl flow_;
  uv_loop_t loop_;
  ConfigSection root_;
  PluginContext ctx_;
  CapturingEmitter emitter_;
  std::unique_ptr<Input> input_;
};

TEST_F(TailInputTest, ExpandsTheTagFromThePathAndReadsFromHead) {
  write_file(dir_.file("a.log"), "one\ntwo\nincomplete");
  build(conf("read_from_head true"));
  input_->start();
  run_for(200);
  ASSERT_EQ(emitter_.out.size(), 2u);
  std::string expected_tag = "k";
  for (char c : dir_.file("a.log")) expected_tag += c == '/' ? '.' : c;
  EXPECT_EQ(emitter_.out[0].tag, expected_tag);
  EXPECT_EQ(emitter_.out[1].message, "two");
  EXPECT_EQ(emitter_.out[1].offset, 4u);
  EXPECT_TRUE(input_->at_eof());
  shutdown();
  // The trailing line without a newline is neither emitted nor counted (as Fluentd).
  EXPECT_NE(testing::read_file(dir_.file("pos")).find("\t0000000000000008\t"), std::string::npos);
}

TEST_F(TailInputTest, WithoutReadFromHeadStartsAtTheEnd) {
  write_file(dir_.file("a.log"), "old\n");
  build(conf());
  input_->start();
  run_for(100);
  append_file(dir_.file("a.log"), "new\n");
  run_for(1300);  // inotify, or the one-second watch timer
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].message, "new");
  shutdown();
}

TEST_F(TailInputTest, PositionAdvancesOnlyWhenOutputsAcknowledge) {
  write_file(dir_.file("a.log"), "one\ntwo\n");
  emitter_.hold_claims = true;
  build(conf("read_from_head true"));
  input_->start();
  run_for(200);
  ASSERT_EQ(emitter_.out.size(), 2u);
  EXPECT_NE(testing::read_file(dir_.file("pos")).find("\t0000000000000000\t"), std::string::npos)
      << "nothing acknowledged yet";
  emitter_.ack_all();
  run_for(200);
  EXPECT_NE(testing::read_file(dir_.file("pos")).find("\t0000000000000008\t"), std::string::npos);
  shutdown();
}

TEST_F(TailInputTest, TruncationIsReadAgainFromZero) {
  write_file(dir_.file("a.log"), "one\ntwo\n");
  build(conf("read_from_head true"));
  input_->start();
  run_for(200);
  write_file(dir_.file("a.log"), "3\n");
  run_for(1300);
  ASSERT_EQ(emitter_.out.size(), 3u);
  EXPECT_EQ(emitter_.out[2].message, "3");
  shutdown();
}

// logrotate's copytruncate while a line is half read: the copy (which the glob matches) is read
// from where that line starts, so the line arrives whole and once, not as its tail.
TEST_F(TailInputTest, CopytruncateCopyGivesAHalfReadLineWhole) {
  const std::string head(1200, 'h');  // more than the fingerprint's bytes
  write_file(dir_.file("a.log"), head + "\none\ntw");
  build(conf("read_from_head true\n file_identity fingerprint\n refresh_interval 0.2\n rotate_wait 0"));
  input_->start();
  run_for(200);
  ASSERT_EQ(emitter_.out.size(), 2u);
  // The writer ends the line, logrotate copies the file and truncates it, all before the tailer
  // reads again: "tw" is the tailer's incomplete line when it finds the truncation.
  append_file(dir_.file("a.log"), "o\n");
  write_file(dir_.file("a-1.log"), testing::read_file(dir_.file("a.log")));
  ASSERT_EQ(::truncate(dir_.file("a.log").c_str(), 0), 0);
  run_for(1500);
  std::vector<std::string> got;
  for (auto& c : emitter_.out) got.push_back(c.message);
  EXPECT_EQ(got, (std::vector<std::string>{head, "one", "two"}));
  shutdown();
}

TEST_F(TailInputTest, RenameAndCreateRotationLosesNothing) {
  write_file(dir_.file("a.log"), "one\n");
  build(conf("read_from_head true\n rotate_wait 0"));
  input_->start();
  run_for(200);
  append_file(dir_.file("a.log"), "two\n");
  ASSERT_EQ(::rename(dir_.file("a.log").c_str(), dir_.file("a.log.1").c_str()), 0);
  write_file(dir_.file("a.log"), "three\n");
  run_for(2300);
  std::vector<std::string> got;
  for (auto& c : emitter_.out) got.push_back(c.message);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
  shutdown();
}

TEST_F(TailInputTest, IdleFilesGiveBackDescriptorsAndAreStillFollowed) {
  for (int i = 0; i < 20; ++i) write_file(dir_.file("f" + std::to_string(i) + ".log"), "a\n");
  build(conf("read_from_head true\n open_files_limit 5"));
  input_->start();
  run_for(200);
  ASSERT_EQ(emitter_.out.size(), 20u);
  auto* tail = dynamic_cast<TailInput*>(input_.get());
  ASSERT_NE(tail, nullptr);
  EXPECT_EQ(tail->open_descriptors(), 20u);
  run_for(1100);  // the watch timer closes the least recently active idle files
  EXPECT_LE(tail->open_descriptors(), 5u);
  append_file(dir_.file("f3.log"), "b\n");
  run_for(1300);
  ASSERT_EQ(emitter_.out.size(), 21u);
  EXPECT_EQ(emitter_.out.back().message, "b");
  shutdown();
}

TEST_F(TailInputTest, HeldPartialLinesAreFlushedAfterQuiet) {
  write_file(dir_.file("a.log"), "2024-05-01T12:00:00Z stdout P start of a line that never ends\n");
  auto parsed = conf("read_from_head true\n multiline_flush_interval 1");
  parsed.replace(parsed.find("@type none"), 10, "@type cri ");
  build(parsed);
  input_->start();
  run_for(300);
  EXPECT_EQ(emitter_.out.size(), 0u) << "held: its F line may still come";
  run_for(2200);
  ASSERT_EQ(emitter_.out.size(), 1u);
  EXPECT_EQ(emitter_.out[0].message, "start of a line that never ends");
  shutdown();
}

}  // namespace
}  // namespace sluice

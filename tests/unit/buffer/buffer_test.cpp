// collector/buffer: chunk keys and limits, flush, retries, partial results, claims, overflow,
// file chunks (crash-safe, resumed after a restart).
#include "buffer/buffer.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <uv.h>

#include <deque>
#include <map>

#include "buffer/chunk_file.h"
#include "core/registry.h"
#include "support/test_support.h"

namespace sluice::buffer {
namespace {

struct Harness {
  uv_loop_t loop;
  Metrics metrics;
  FlowControl flow;
  std::deque<std::pair<Chunk*, SendDone>> sends;
  std::vector<std::string> sent_payloads;
  std::vector<size_t> sent_capacities;
  std::vector<uint64_t> sent_record_counts;
  std::vector<std::string> gave_up;
  bool auto_ok = false;
  std::unique_ptr<Buffer> buffer;

  explicit Harness(Config c) {
    uv_loop_init(&loop);
    Buffer::Hooks h;
    h.send = [this](Chunk& c, SendDone done) {
      sent_payloads.push_back(c.payload);
      sent_capacities.push_back(c.payload.capacity());
      sent_record_counts.push_back(c.records);
      if (auto_ok) done(SendResult::success());
      else sends.emplace_back(&c, std::move(done));
    };
    h.give_up = [this](const Chunk& c, const std::string& why) { gave_up.push_back(why); };
    buffer = std::make_unique<Buffer>(&loop, c, &flow, &metrics, "t", std::move(h));
  }
  ~Harness() {
    buffer.reset();
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  void add(std::string_view tag, int64_t sec, std::string_view text, Claim* claim = nullptr,
           std::string_view variant = {}) {
    std::string& out = buffer->begin_record(tag, EventTime{sec, 0}, variant, claim);
    out.append(text);
    buffer->end_record();
  }
  void run_for(int ms) {
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, [](uv_timer_t* t) { uv_stop(t->loop); }, ms, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  void run_until(const std::function<bool()>& pred, int max_ms = 3000) {
    for (int i = 0; i < max_ms / 10 && !pred(); ++i) run_for(10);
  }
  // Acknowledges each send as it comes, until none is left or the sources are let go.
  void acknowledge_until_released() {
    run_until([&] { return !sends.empty(); });
    while (!sends.empty()) {
      auto s = std::move(sends.front());
      sends.pop_front();
      s.second(SendResult::success());
      run_until([&] { return !sends.empty() || !flow.blocked(); }, 500);
    }
  }
  // Seals every chunk, sends them all successfully and sorts what was sent.
  void send_all_sorted() {
    buffer->flush_all();
    auto_ok = true;
    buffer->start();
    run_until([&] { return buffer->idle(); });
    std::sort(sent_payloads.begin(), sent_payloads.end());
  }
};

Config memory() {
  Config c;
  c.flush_interval = 0.05;
  c.retry_wait = 0.02;
  c.retry_randomize = false;
  c.flush_thread_count = 1;
  c.queued_chunks_limit_size = 100;
  return c;
}

TEST(BufferConfig, ParsesFluentdParameters) {
  auto r = parse_config_text(
      "<match **>\n@type x\n<buffer tag,time>\n@type memory\ntimekey 1h\nchunk_limit_size 2M\n"
      "queue_limit_length 32\nflush_thread_count 8\nretry_forever true\nretry_max_interval 30\n"
      "overflow_action drop_oldest_chunk\n</buffer>\n</match>\n",
      "t.conf", ".");
  ASSERT_TRUE(r.errors.empty());
  const ConfigSection* b = r.root.children[0].child("buffer");
  Config c = Config::parse(b, {}, "id");
  EXPECT_TRUE(c.key_tag);
  EXPECT_TRUE(c.key_time);
  EXPECT_EQ(c.timekey, 3600);
  EXPECT_EQ(c.chunk_limit_size, 2u << 20);
  EXPECT_EQ(c.total_limit_size, 64u << 20);  // chunk_limit_size * queue_limit_length
  EXPECT_EQ(c.flush_thread_count, 8);
  EXPECT_EQ(c.queued_chunks_limit_size, 8u);
  EXPECT_TRUE(c.retry_forever);
  EXPECT_EQ(c.retry_max_interval, 30);
  EXPECT_EQ(c.flush_mode, Config::FlushMode::Lazy);
  EXPECT_EQ(c.overflow, Config::Overflow::DropOldestChunk);
  EXPECT_TRUE(c.flush_at_shutdown);
}

TEST(BufferConfig, DefaultsAndErrors) {
  Config::Defaults d;
  d.chunk_keys = {"tag"};
  Config c = Config::parse(nullptr, d, "id");
  EXPECT_TRUE(c.key_tag);
  EXPECT_EQ(c.chunk_limit_size, 8u << 20);
  EXPECT_EQ(c.total_limit_size, 512u << 20);
  EXPECT_EQ(c.flush_mode, Config::FlushMode::Interval);
  auto r = parse_config_text("<buffer time>\n</buffer>\n<buffer foo>\n</buffer>\n"
                             "<buffer>\n@type file\n</buffer>\n", "t.conf", ".");
  EXPECT_THROW(Config::parse(&r.root.children[0], d, "id"), ConfigException);  // no timekey
  EXPECT_THROW(Config::parse(&r.root.children[1], d, "id"), ConfigException);  // unknown key
  EXPECT_THROW(Config::parse(&r.root.children[2], d, "id"), ConfigException);  // no path
  Config::Defaults with_root = d;
  with_root.root_dir = "/tmp/r";
  Config f = Config::parse(&r.root.children[2], with_root, "out_es");
  EXPECT_EQ(f.path, "/tmp/r/buffer/out_es");
  EXPECT_FALSE(f.flush_at_shutdown);
}

TEST(BufferConfig, RecordKeysOnlyForOutputsThatTakeThemAndBackupDirectory) {
  auto r = parse_config_text("<buffer tag,$.kubernetes.namespace_name,host>\n</buffer>\n"
                             "<buffer $['a']>\n</buffer>\n<buffer a/b>\n</buffer>\n"
                             "<buffer>\ndisable_chunk_backup true\n</buffer>\n", "t.conf", ".");
  Config::Defaults d;
  EXPECT_THROW(Config::parse(&r.root.children[0], d, "id"), ConfigException);
  d.record_keys = true;
  d.root_dir = "/var/lib/r";
  d.worker_id = 2;
  Config c = Config::parse(&r.root.children[0], d, "out:web/1");
  EXPECT_TRUE(c.key_tag);
  EXPECT_EQ(c.record_keys, (std::vector<std::string>{"$.kubernetes.namespace_name", "host"}));
  // Fluentd's Buffer#backup: <root_dir>/backup/worker<N>/<plugin id, unsafe characters as _>.
  EXPECT_EQ(c.backup_dir, "/var/lib/r/backup/worker2/out_web_1");
  EXPECT_THROW(Config::parse(&r.root.children[1], d, "id"), ConfigException);  // bracket notation
  EXPECT_THROW(Config::parse(&r.root.children[2], d, "id"), ConfigException);  // invalid char
  EXPECT_EQ(Config::parse(&r.root.children[3], d, "id").backup_dir, "");
}

TEST(Buffer, UnrecoverableChunksGoToTheBackupDirectoryWithoutRetry) {
  sluice::testing::TempDir dir;
  Config c = memory();
  c.backup_dir = dir.file("backup/worker0/out");
  DeliveryTracker tracker;
  Claim* claim = tracker.open(5);
  Harness h(c);
  h.buffer->start();
  h.add("t", 0, "{\"a\":1}\n", claim);
  claim->release();
  h.run_until([&] { return !h.sends.empty(); });
  ASSERT_EQ(h.sends.size(), 1u);
  const uint64_t id = h.sends.front().first->id;
  h.sends.front().second(SendResult::unrecoverable("400 Bad Request"));
  h.sends.pop_front();
  // Written on the thread pool; the claims are released once it is.
  h.run_until([&] { return tracker.committed() == 5u; });
  EXPECT_EQ(tracker.committed(), 5u);
  EXPECT_TRUE(h.buffer->idle());
  h.run_for(100);
  EXPECT_TRUE(h.sends.empty());  // not retried
  EXPECT_EQ(h.sent_payloads.size(), 1u);
  char name[40];
  snprintf(name, sizeof name, "/%016llx.log", (unsigned long long)id);
  std::string bytes, error;
  EXPECT_TRUE(read_file(c.backup_dir + name, bytes, 1 << 20, error)) << error;
  EXPECT_EQ(bytes, "{\"a\":1}\n");
}

TEST(Buffer, ChunksByTagTimeAndVariant) {
  Config c = memory();
  c.key_tag = true;
  c.key_time = true;
  c.timekey = 3600;
  c.timekey_use_utc = true;
  Harness h(c);
  h.add("a", 10, "1");
  h.add("a", 20, "2");
  h.add("b", 30, "3");
  h.add("a", 3700, "4");
  h.add("a", 40, "5", nullptr, "idx2");
  EXPECT_EQ(h.buffer->chunk_count(), 4u);
  h.send_all_sorted();
  EXPECT_EQ(h.sent_payloads, (std::vector<std::string>{"12", "3", "4", "5"}));
}

// The buffer trusts a tag view to hold the same bytes until batch_done (a batch's tag), and
// compares variants (the index) by their bytes always: the same memory holding another tag in the
// next batch, or another index within a batch, goes to another chunk.
TEST(Buffer, ReusedTagAndVariantMemoryIsComparedAgain) {
  Config c = memory();
  c.key_tag = true;
  Harness h(c);
  std::string tag = "app.a", index = "logs-2024.05.01";
  h.add(tag, 10, "1", nullptr, index);
  h.add(tag, 11, "2", nullptr, index);
  index.back() = '2';  // a day boundary within the batch: same string, other bytes
  h.add(tag, 12, "3", nullptr, index);
  h.buffer->batch_done();
  tag.back() = 'b';  // the next batch's tag in the same memory
  h.add(tag, 13, "4", nullptr, index);
  h.buffer->batch_done();
  EXPECT_EQ(h.buffer->chunk_count(), 3u);
  h.send_all_sorted();
  EXPECT_EQ(h.sent_payloads, (std::vector<std::string>{"12", "3", "4"}));
}

TEST(Buffer, ChunkLimitsSealChunksAndMoveTheOverflowingRecord) {
  Config c = memory();
  c.chunk_limit_size = 1024;
  c.chunk_limit_records = 1000;
  Harness h(c);
  std::string rec(300, 'x');
  for (int i = 0; i < 4; ++i) h.add("t", 0, rec);
  // 3 records fit in 1024 bytes; the 4th starts a new chunk.
  EXPECT_EQ(h.buffer->queued(), 1u);
  EXPECT_EQ(h.buffer->chunk_count(), 2u);
  Config c2 = memory();
  c2.chunk_limit_records = 2;
  Harness h2(c2);
  for (int i = 0; i < 5; ++i) h2.add("t", 0, "r");
  EXPECT_EQ(h2.buffer->queued(), 2u);
}

// A formatter may append a run of records after one begin_record (Buffer::run_limit): the chunks
// must be those that a begin_record/end_record pair per record makes, with the same payloads and
// record counts, also when a record overflows its chunk or is larger than a chunk.
TEST(Buffer, RunsOfRecordsMakeTheChunksThatRecordByRecordMakes) {
  Config c = memory();
  c.chunk_limit_size = 256 << 10;
  std::vector<std::string> records;
  uint32_t seed = 7;
  for (int i = 0; i < 400; ++i) {
    seed = seed * 1103515245u + 12345u;
    const size_t size = i == 150 ? (300u << 10) : 200 + (seed >> 8) % 20000;
    records.push_back(std::string(size, char('a' + i % 26)) + "\n");
  }
  Harness one_by_one(c), runs(c);
  for (const std::string& r : records) one_by_one.add("t", 0, r);
  size_t longest_run = 0;
  for (size_t i = 0; i < records.size();) {
    std::string& out = runs.buffer->begin_record("t", EventTime{0, 0}, {}, nullptr);
    const size_t limit = runs.buffer->run_limit();
    size_t n = 0, last_start = 0;
    do {
      last_start = out.size();
      out.append(records[i + n]);
      ++n;
    } while (i + n < records.size() && out.size() < limit);
    runs.buffer->end_records(n, last_start);
    longest_run = std::max(longest_run, n);
    i += n;
  }
  EXPECT_GT(longest_run, 5u);  // runs did form
  for (Harness* h : {&one_by_one, &runs}) {
    h->buffer->flush_all();
    h->auto_ok = true;
    h->buffer->start();
    h->run_until([&] { return h->buffer->idle(); });
  }
  EXPECT_GT(runs.sent_payloads.size(), 10u);
  EXPECT_EQ(runs.sent_payloads, one_by_one.sent_payloads);
  EXPECT_EQ(runs.sent_record_counts, one_by_one.sent_record_counts);
  uint64_t total = 0;
  for (uint64_t n : runs.sent_record_counts) total += n;
  EXPECT_EQ(total, records.size());

  // Chunks keyed by time or limited in records take one record per run.
  Config timed = memory();
  timed.key_time = true;
  timed.timekey = 60;
  Config counted = memory();
  counted.chunk_limit_records = 10;
  for (const Config& k : {timed, counted}) {
    Harness h(k);
    h.buffer->begin_record("t", EventTime{0, 0}, {}, nullptr).append("x");
    EXPECT_EQ(h.buffer->run_limit(), 0u);
    h.buffer->end_record();
  }
}

TEST(Buffer, ClaimsAreReleasedWhenTheChunkIsAcknowledged) {
  DeliveryTracker tracker;
  Claim* claim = tracker.open(100);
  Harness h(memory());
  h.buffer->start();
  h.add("t", 0, "a", claim);
  h.add("t", 0, "b", claim);
  claim->release();  // the source's own reference
  EXPECT_EQ(tracker.committed(), 0u);
  h.buffer->batch_done();
  h.run_until([&] { return !h.sends.empty(); });
  ASSERT_EQ(h.sends.size(), 1u);
  EXPECT_EQ(tracker.committed(), 0u);
  h.sends.front().second(SendResult::success());
  EXPECT_EQ(tracker.committed(), 100u);
}

TEST(Buffer, RetryThenPartialResendsOnlyTheRest) {
  DeliveryTracker tracker;
  Claim* claim = tracker.open(10);
  Harness h(memory());
  h.buffer->start();
  h.add("t", 0, "a\n", claim);
  h.add("t", 0, "b\n", claim);
  h.add("t", 0, "c\n", claim);
  claim->release();
  h.run_until([&] { return !h.sends.empty(); });
  auto s = std::move(h.sends.front());
  h.sends.pop_front();
  s.second(SendResult::retry("down"));
  EXPECT_GT(h.buffer->retry_at(), 0);
  h.run_until([&] { return !h.sends.empty(); });
  ASSERT_EQ(h.sends.size(), 1u);
  EXPECT_EQ(h.sends.front().first->payload, "a\nb\nc\n");
  s = std::move(h.sends.front());
  h.sends.pop_front();
  s.second(SendResult::partial("b\n", 1, "429"));
  EXPECT_EQ(tracker.committed(), 0u);
  h.run_until([&] { return !h.sends.empty(); });
  ASSERT_EQ(h.sends.size(), 1u);
  EXPECT_EQ(h.sends.front().first->payload, "b\n");
  EXPECT_EQ(h.sends.front().first->records, 1u);
  h.sends.front().second(SendResult::success());
  EXPECT_EQ(tracker.committed(), 10u);
  EXPECT_EQ(h.metrics.value("sluice_buffer_retries_total{plugin=\"t\"}"), 2u);
}

TEST(Buffer, RetryLimitGivesUpAndReleases) {
  DeliveryTracker tracker;
  Claim* claim = tracker.open(10);
  Config c = memory();
  c.retry_max_times = 1;
  Harness h(c);
  h.buffer->start();
  h.add("t", 0, "a", claim);
  claim->release();
  for (int i = 0; i < 2; ++i) {
    h.run_until([&] { return !h.sends.empty(); });
    ASSERT_EQ(h.sends.size(), 1u);
    auto s = std::move(h.sends.front());
    h.sends.pop_front();
    s.second(SendResult::retry("nope"));
  }
  EXPECT_EQ(h.gave_up.size(), 1u);
  EXPECT_EQ(tracker.committed(), 10u);
  EXPECT_TRUE(h.buffer->idle());
}

// Room for two 1 KiB chunks: overfill() takes the buffer past its limit in one batch.
Config tight_memory() {
  Config c = memory();
  c.chunk_limit_size = 1024;
  c.total_limit_size = 2048;
  return c;
}
void overfill(Harness& h) {
  const std::string rec(600, 'x');
  for (int i = 0; i < 4; ++i) h.add("t", 0, rec);
  h.buffer->batch_done();
}

TEST(Buffer, BlockOverflowHoldsTheSourcesUntilThereIsRoom) {
  Harness h(tight_memory());
  h.buffer->start();
  overfill(h);
  EXPECT_TRUE(h.flow.blocked());
  h.acknowledge_until_released();
  EXPECT_FALSE(h.flow.blocked());
}

// A chunk sealed before it is full gives back the room it reserved, down to a size class
// (whole MiBs, or a power of two under 1 MiB), so that freed blocks fit later chunks.
TEST(Buffer, EarlySealedChunksKeepSizeClassRoom) {
  Config c = memory();
  c.chunk_limit_size = 8u << 20;
  c.total_limit_size = 64u << 20;
  Harness h(c);
  h.auto_ok = true;
  h.buffer->start();
  const std::string rec(1000, 'x');
  auto seal = [&](int records) {
    for (int i = 0; i < records; ++i) h.add("t", 0, rec);
    h.buffer->batch_done();
    h.buffer->flush_all();
    const size_t sent = h.sent_capacities.size();
    h.run_until([&] { return h.sent_capacities.size() > sent; });
    return h.sent_capacities.size() > sent ? h.sent_capacities.back() : size_t(0);
  };
  EXPECT_EQ(seal(100), 128u << 10);   // 100,000 bytes in the first MiB reserved
  EXPECT_EQ(seal(1500), 2u << 20);    // 1,500,000 bytes, after growing to the full limit
}

// A slow output pauses and resumes the sources many times a second: only the first pause
// (warn) and the first resume (info) may reach the log at its default level.
TEST(Buffer, RepeatedHoldsAreLoggedOnce) {
  Harness h(tight_memory());
  h.buffer->start();
  ::testing::internal::CaptureStderr();
  int holds = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    overfill(h);
    holds += h.flow.blocked() ? 1 : 0;
    h.acknowledge_until_released();
    EXPECT_FALSE(h.flow.blocked());
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(holds, 3);
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_LE(count("pausing the sources"), 1u) << log;
  EXPECT_LE(count("resuming the sources"), 1u) << log;
}

TEST(Buffer, DropOldestAndThrowException) {
  Config c = tight_memory();
  c.overflow = Config::Overflow::DropOldestChunk;
  Harness h(c);
  overfill(h);
  EXPECT_FALSE(h.flow.blocked());
  EXPECT_LT(h.buffer->total_bytes(), 2048u);
  EXPECT_EQ(h.gave_up.size(), 1u);
  Config t = c;
  t.overflow = Config::Overflow::ThrowException;
  Harness h2(t);
  overfill(h2);
  EXPECT_TRUE(h2.buffer->refusing());
}

TEST(Buffer, ChunkFileRoundTrip) {
  Chunk c;
  c.id = 42;
  c.tag = "kubernetes.var.log";
  c.variant = "logstash-2024.05.01";
  c.timekey = 1714521600;
  c.payload = std::string(10000, 'a') + "\n";
  c.records = 7;
  std::string bytes = Buffer::encode_chunk_file(c, 1);
  EXPECT_LT(bytes.size(), 500u);
  Chunk d;
  std::string err;
  ASSERT_TRUE(Buffer::decode_chunk_file(bytes, d, true, err)) << err;
  EXPECT_EQ(d.id, 42u);
  EXPECT_EQ(d.tag, c.tag);
  EXPECT_EQ(d.variant, c.variant);
  EXPECT_EQ(d.timekey, c.timekey);
  EXPECT_EQ(d.records, 7u);
  EXPECT_EQ(d.payload, c.payload);
  bytes[bytes.size() - 3] ^= 0x55;
  EXPECT_FALSE(Buffer::decode_chunk_file(bytes, d, true, err));
}

std::vector<std::string> chunk_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).find(".zst") != std::string::npos) out.push_back(e->d_name);
    closedir(d);
  }
  return out;
}

TEST(Buffer, FileChunksReleaseClaimsOnDiskAndAreResumedAfterRestart) {
  sluice::testing::TempDir dir;
  Config c = memory();
  c.type = Config::Type::File;
  c.path = dir.file("buf");
  c.key_tag = true;
  c.flush_at_shutdown = false;
  DeliveryTracker tracker;
  {
    Harness h(c);
    h.buffer->start();
    Claim* claim = tracker.open(50);
    h.add("tag1", 0, "x\n", claim, "idx");
    h.add("tag1", 0, "y\n", claim, "idx");
    claim->release();
    h.buffer->flush_all();
    h.run_until([&] { return tracker.committed() == 50; });
    EXPECT_EQ(tracker.committed(), 50u);  // durable on disk: released before delivery
    h.run_until([&] { return !h.sends.empty(); });
    EXPECT_EQ(chunk_files(c.path).size(), 1u);
    // "crash": the send never completes
  }
  Harness h2(c);
  h2.buffer->start();
  EXPECT_EQ(h2.buffer->queued(), 1u);
  h2.run_until([&] { return !h2.sends.empty(); });
  ASSERT_EQ(h2.sends.size(), 1u);
  EXPECT_EQ(h2.sends.front().first->payload, "x\ny\n");
  EXPECT_EQ(h2.sends.front().first->tag, "tag1");
  EXPECT_EQ(h2.sends.front().first->variant, "idx");
  h2.sends.front().second(SendResult::partial("y\n", 1, "429"));
  h2.sends.pop_front();
  h2.run_until([&] { return !h2.sends.empty(); });
  ASSERT_EQ(h2.sends.size(), 1u);
  EXPECT_EQ(h2.sends.front().first->payload, "y\n");
  h2.sends.front().second(SendResult::success());
  h2.sends.pop_front();
  h2.run_until([&] { return chunk_files(c.path).empty(); });
  EXPECT_TRUE(chunk_files(c.path).empty());
}

TEST(BufferConfig, EachWorkerHasItsOwnFileBufferDirectory) {
  auto r = parse_config_text("<buffer>\n@type file\npath /b\n</buffer>\n", "t.conf", ".");
  Config::Defaults d;
  d.workers = 2;
  Config w0 = Config::parse(&r.root.children[0], d, "id");
  d.worker_id = 1;
  Config w1 = Config::parse(&r.root.children[0], d, "id");
  EXPECT_EQ(w0.path, "/b/worker0");
  EXPECT_EQ(w1.path, "/b/worker1");
  // Worker 0 takes over what a single worker left, and what workers 2 and up left.
  ASSERT_EQ(w0.adopt_dirs.size(), 63u);
  EXPECT_EQ(w0.adopt_dirs[0], "/b");
  EXPECT_EQ(w0.adopt_dirs[1], "/b/worker2");
  EXPECT_TRUE(w1.adopt_dirs.empty());
  Config alone = Config::parse(&r.root.children[0], {}, "id");
  EXPECT_EQ(alone.path, "/b");
  ASSERT_EQ(alone.adopt_dirs.size(), 63u);
  EXPECT_EQ(alone.adopt_dirs[0], "/b/worker1");
}

// A run with two workers after runs with one and with three: worker 0 delivers the chunks they
// left, whose ids repeat its own, from where they lie, and removes their files once delivered.
TEST(Buffer, ChunksLeftByRunsWithOtherWorkerCountsAreTakenOver) {
  sluice::testing::TempDir dir;
  Config c = memory();
  c.type = Config::Type::File;
  c.key_tag = true;
  c.flush_at_shutdown = false;
  DeliveryTracker tracker;
  auto leave_chunk = [&](const std::string& path, const std::string& text) {
    Config left = c;
    left.path = path;
    Harness h(left);
    h.buffer->start();
    Claim* claim = tracker.open(1);
    h.add("t", 0, text, claim);
    claim->release();
    h.buffer->flush_all();
    h.run_until([&] { return chunk_files(path).size() == 1; });
    ASSERT_EQ(chunk_files(path).size(), 1u);
  };
  leave_chunk(dir.file("buf"), "one worker\n");
  leave_chunk(dir.file("buf/worker2"), "third worker\n");
  leave_chunk(dir.file("buf/worker0"), "own\n");
  c.path = dir.file("buf/worker0");
  c.adopt_dirs = {dir.file("buf"), dir.file("buf/worker2")};
  Harness h(c);
  h.auto_ok = true;
  h.buffer->start();
  h.run_until([&] { return h.sent_payloads.size() == 3; });
  std::sort(h.sent_payloads.begin(), h.sent_payloads.end());
  EXPECT_EQ(h.sent_payloads, (std::vector<std::string>{"one worker\n", "own\n", "third worker\n"}));
  h.run_until([&] { return chunk_files(dir.file("buf")).empty() && chunk_files(dir.file("buf/worker2")).empty() &&
                           chunk_files(c.path).empty(); });
  EXPECT_TRUE(chunk_files(dir.file("buf")).empty());
  EXPECT_TRUE(chunk_files(dir.file("buf/worker2")).empty());
  EXPECT_TRUE(chunk_files(c.path).empty());
}

TEST(Buffer, CloseFlushesMemoryChunks) {
  Config c = memory();
  c.flush_interval = 3600;
  Harness h(c);
  h.auto_ok = true;
  h.buffer->start();
  h.add("t", 0, "a");
  bool closed = false;
  h.buffer->close([&] { closed = true; });
  h.run_until([&] { return closed; });
  EXPECT_TRUE(closed);
  EXPECT_EQ(h.sent_payloads, (std::vector<std::string>{"a"}));
}

// <secondary> with the real secondary_file: the chunk that was being retried (in memory) and one
// queued behind it that the file buffer had moved out of memory both end up in dump files.
TEST(Buffer, ChunksItStopsRetryingGoToTheSecondaryFromMemoryAndFromDisk) {
  sluice::testing::TempDir dir;
  Config c = memory();
  c.type = Config::Type::File;
  c.path = dir.file("buf");
  c.key_tag = true;
  c.resident_limit = 0;  // every chunk on disk leaves memory until it is sent
  c.retry_max_times = 1;
  Registry registry;
  register_all_plugins(registry);
  PluginContext ctx;
  ctx.registry = &registry;
  ConfigSection secondary{"secondary", "", {}, {{"@type", "secondary_file", {}}, {"directory", dir.file("failed"), {}}}, {}};
  ConfigSection match{"match", "**", {}, {}, {secondary}};
  DeliveryTracker tracker;
  Claim* claim = tracker.open(20);
  Harness h(c);
  h.buffer->set_secondary(ctx.make_secondary(match));
  h.buffer->start();
  h.add("first", 0, "a\nb\n", claim);
  h.add("second", 0, "c\n", claim);
  claim->release();
  h.buffer->flush_all();
  for (int i = 0; i < 2; ++i) {
    h.run_until([&] { return !h.sends.empty(); });
    ASSERT_EQ(h.sends.size(), 1u);
    auto s = std::move(h.sends.front());
    h.sends.pop_front();
    s.second(SendResult::retry("down"));
  }
  // Written on the thread pool; the chunk files go once both are.
  h.run_until([&] { return h.buffer->idle() && chunk_files(c.path).empty(); });
  EXPECT_TRUE(h.buffer->idle());
  EXPECT_TRUE(h.gave_up.empty());
  std::vector<std::string> dumps;
  for (const char* name : {"dump.bin.0", "dump.bin.1"}) {
    std::string bytes, error;
    EXPECT_TRUE(read_file(dir.file("failed/") + name, bytes, 1 << 20, error)) << error;
    dumps.push_back(bytes);
  }
  std::sort(dumps.begin(), dumps.end());
  EXPECT_EQ(dumps, (std::vector<std::string>{"a\nb\n", "c\n"}));
}

}  // namespace
}  // namespace sluice::buffer

#include <gtest/gtest.h>
#include <uv.h>

#include "shard_table.h"

namespace sluice {
namespace {

// One loop with one wake handle per worker; counts the wakes each worker got.
struct Workers {
  uv_loop_t loop;
  uv_async_t wake[2];
  int woken[2] = {0, 0};
  Workers() {
    uv_loop_init(&loop);
    for (int w = 0; w < 2; ++w) {
      wake[w].data = &woken[w];
      uv_async_init(&loop, &wake[w], [](uv_async_t* h) { ++*static_cast<int*>(h->data); });
    }
  }
  ~Workers() {
    for (auto& h : wake) uv_close(reinterpret_cast<uv_handle_t*>(&h), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  void run() { uv_run(&loop, UV_RUN_NOWAIT); }
};

FileHandoff handoff(const std::string& path) { return FileHandoff{path, 42, 1, 2, 300, 0}; }

TEST(ShardTable, NewFilesGoToTheLeastLoadedWorker) {
  ShardTable& t = ShardTable::of("spread", 2);
  EXPECT_EQ(t.owner("/a"), 0);
  EXPECT_EQ(t.owner("/b"), 1);
  EXPECT_EQ(t.owner("/c", 1), 1);
  EXPECT_EQ(t.owner("/d"), 0);
  EXPECT_EQ(t.owner("/a"), 0);
}

TEST(ShardTable, FilesGoOnlyToAnIdleWorkerThatJoined) {
  Workers ws;
  ShardTable& t = ShardTable::of("idle", 2);
  t.owner("/big", 0);
  t.owner("/big2", 0);
  EXPECT_EQ(t.reserve_idle(0, 1), -1) << "worker 1 has not joined";
  t.join(0, &ws.wake[0], 2);
  t.join(1, &ws.wake[1], 1);
  EXPECT_FALSE(t.someone_idle(0));
  EXPECT_EQ(t.reserve_idle(0, 1), -1) << "worker 1 has a file to read";
  EXPECT_FALSE(t.may_receive(1));
  t.publish_ready(1, 0);
  EXPECT_TRUE(t.someone_idle(0));
  EXPECT_FALSE(t.someone_idle(1)) << "worker 0 is busy";
  EXPECT_TRUE(t.may_receive(1)) << "idle while worker 0 has a backlog in two files";
  EXPECT_FALSE(t.may_receive(0));
  ASSERT_EQ(t.reserve_idle(0, 2), 1);
  EXPECT_FALSE(t.someone_idle(0)) << "reserved: no other worker sends it files too";
  FileHandoff h = handoff("/big"), h2 = handoff("/big2");
  ASSERT_TRUE(t.give(1, h));
  EXPECT_EQ(t.owner("/big"), ShardTable::kInTransit) << "neither worker may open it meanwhile";
  EXPECT_TRUE(t.may_receive(1)) << "a file is on its way";
  ASSERT_TRUE(t.give(1, h2));
  EXPECT_NE(h.ticket, h2.ticket);
  ws.run();
  EXPECT_EQ(ws.woken[1], 1) << "wakes coalesce";

  std::vector<FileHandoff> got = t.take(1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/big");
  EXPECT_EQ(got[0].fd, 42);
  EXPECT_EQ(got[0].offset, 300u);
  EXPECT_EQ(t.owner("/big"), 1);
  EXPECT_EQ(t.owner("/big2"), 1);
  EXPECT_TRUE(t.take(1).empty());
  EXPECT_EQ(t.owner("/new"), 0) << "loads moved with the files: worker 0 has none now";

  EXPECT_FALSE(t.take_confirmation(h.ticket));
  h.from = 0;
  t.confirm(h);
  ws.run();
  EXPECT_EQ(ws.woken[0], 1) << "the giver is woken to drop its entry";
  EXPECT_TRUE(t.take_confirmation(h.ticket));
  EXPECT_FALSE(t.take_confirmation(h.ticket)) << "taken once";
  t.leave(0);
  t.leave(1);
}

TEST(ShardTable, AWorkerThatStopsGetsNoFileAndHandsBackWhatItDidNotTake) {
  Workers ws;
  ShardTable& t = ShardTable::of("stop", 2);
  t.join(0, &ws.wake[0], 3);
  t.join(1, &ws.wake[1], 0);
  FileHandoff h = handoff("/x");
  t.owner("/x", 0);
  ASSERT_EQ(t.reserve_idle(0, 2), 1);
  ASSERT_TRUE(t.give(1, h));
  std::vector<FileHandoff> left = t.leave(1);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].fd, 42) << "the caller closes it";
  EXPECT_FALSE(t.may_receive(1));
  FileHandoff again = handoff("/y");
  EXPECT_FALSE(t.give(1, again)) << "reserved before it stopped: the giver keeps the file";
  EXPECT_EQ(t.reserve_idle(0, 1), -1);
  t.leave(0);
}

}  // namespace
}  // namespace sluice

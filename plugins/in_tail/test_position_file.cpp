#include <gtest/gtest.h>
#include <sys/stat.h>

#include "position_file.h"
#include "support/test_support.h"

namespace sluice {
namespace {

using testing::read_file;
using testing::TempDir;
using testing::write_file;

TEST(PositionFile, ReadsFluentdLinesAndCompactsDeletedEntries) {
  TempDir dir;
  std::string pos = dir.file("tail.pos");
  write_file(pos,
             "/var/log/containers/app-7d9f_default_app-0123abcd.log\t00000000000001d9\t000000000051c194\n"
             "/var/log/gone.log\tffffffffffffffff\t0000000000001234\n"
             "garbage line without tabs\n");
  PositionFile pf(pos);
  std::string error;
  ASSERT_TRUE(pf.load(error)) << error;
  const PositionEntry* e = pf.find("/var/log/containers/app-7d9f_default_app-0123abcd.log");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->offset, 473u);
  EXPECT_EQ(e->inode, 5357972u);
  EXPECT_EQ(pf.find("/var/log/gone.log"), nullptr);
  ASSERT_TRUE(pf.save(error)) << error;
  EXPECT_EQ(read_file(pos),
            "/var/log/containers/app-7d9f_default_app-0123abcd.log\t00000000000001d9\t000000000051c194\n");
}

TEST(PositionFile, PathsWithTabsKeepTheirLastTwoColumns) {
  std::string path;
  PositionEntry e;
  ASSERT_TRUE(PositionFile::parse_line("/a\tb.log\t0000000000000010\t0000000000000002", path, e));
  EXPECT_EQ(path, "/a\tb.log");
  EXPECT_EQ(e.offset, 16u);
  EXPECT_FALSE(PositionFile::parse_line("/a.log\t00000000000000zz\t0000000000000002", path, e));
}

TEST(PositionFile, MissingFileIsCreatedEmptyAndSavesAreAtomic) {
  TempDir dir;
  std::string pos = dir.file("new.pos");
  PositionFile pf(pos);
  std::string error;
  ASSERT_TRUE(pf.load(error));
  ASSERT_TRUE(pf.save(error));
  EXPECT_EQ(read_file(pos), "");  // Fluentd creates an empty pos_file too
  pf.update("/x.log", 10, 7);
  ASSERT_TRUE(pf.save(error));
  EXPECT_EQ(read_file(pos), "/x.log\t000000000000000a\t0000000000000007\n");
  struct stat st;
  EXPECT_NE(::stat((pos + ".tmp").c_str(), &st), 0) << "the temporary file was renamed away";
}

TEST(PositionFile, SaveFailureKeepsTheOldFile) {
  PositionFile pf("/nonexistent-dir/for/sure/tail.pos");
  std::string error;
  ASSERT_TRUE(pf.load(error));
  pf.update("/x.log", 1, 1);
  EXPECT_FALSE(pf.save(error));
  EXPECT_NE(error.find("/nonexistent-dir/for/sure/tail.pos"), std::string::npos);
}

}  // namespace
}  // namespace sluice

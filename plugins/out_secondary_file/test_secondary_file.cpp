// secondary_file on its own: paths from placeholders, numbering, append, gzip, and failures.
#include <gtest/gtest.h>
#include <zlib.h>

#include "buffer/buffer.h"
#include "buffer/chunk_file.h"
#include "core/registry.h"
#include "support/test_support.h"

namespace sluice {
namespace {

struct Env {
  sluice::testing::TempDir dir;
  Registry registry;
  Env() { register_all_plugins(registry); }

  std::unique_ptr<buffer::Secondary> make(std::vector<ConfigParam> params) {
    params.insert(params.begin(), {"@type", "secondary_file", {}});
    ConfigSection secondary{"secondary", "", {}, std::move(params), {}};
    ConfigSection match{"match", "**", {}, {}, {secondary}};
    PluginContext ctx;
    ctx.registry = &registry;
    return ctx.make_secondary(match);
  }
  std::string read(const std::string& name) {
    std::string bytes, error;
    EXPECT_TRUE(buffer::read_file(dir.file(name), bytes, 1 << 20, error)) << error;
    return bytes;
  }
};

buffer::Chunk chunk(std::string tag, std::string payload, uint64_t id = 0x2a) {
  buffer::Chunk c;
  c.id = id;
  c.tag = std::move(tag);
  c.payload = std::move(payload);
  c.records = 1;
  return c;
}

TEST(SecondaryFile, NumbersFilesAndExpandsTagAndChunkId) {
  Env env;
  auto s = env.make({{"directory", env.dir.file("out/${tag[0]}"), {}}, {"basename", "${tag[-1]}.${chunk_id}", {}}});
  std::string where;
  ASSERT_TRUE(s->write(chunk("kube.ns.app", "one"), where)) << where;
  EXPECT_EQ(where, env.dir.file("out/kube/app.000000000000002a.0"));
  ASSERT_TRUE(s->write(chunk("kube.ns.app", "two"), where)) << where;
  EXPECT_EQ(where, env.dir.file("out/kube/app.000000000000002a.1"));
  EXPECT_EQ(env.read("out/kube/app.000000000000002a.0"), "one");
  EXPECT_EQ(env.read("out/kube/app.000000000000002a.1"), "two");
}

TEST(SecondaryFile, AppendsAndGzipsOneMemberPerChunk) {
  Env env;
  auto s = env.make({{"directory", env.dir.path(), {}}, {"append", "true", {}}, {"compress", "gzip", {}}});
  std::string where;
  ASSERT_TRUE(s->write(chunk("t", "first\n"), where)) << where;
  ASSERT_TRUE(s->write(chunk("t", "second\n"), where)) << where;
  EXPECT_EQ(where, env.dir.file("dump.bin.gz"));
  // zlib reads concatenated gzip members as one stream.
  gzFile f = gzopen(where.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  char buf[64] = {};
  const int n = gzread(f, buf, sizeof buf - 1);
  gzclose(f);
  EXPECT_EQ(std::string(buf, n > 0 ? size_t(n) : 0), "first\nsecond\n");
}

TEST(SecondaryFile, FailuresSayWhy) {
  Env env;
  std::string where;
  auto by_tag = env.make({{"directory", env.dir.path(), {}}, {"basename", "${tag[3]}", {}}});
  EXPECT_FALSE(by_tag->write(chunk("a.b", "x"), where));
  EXPECT_EQ(where, "the tag 'a.b' has no part ${tag[3]}");
  EXPECT_FALSE(by_tag->write(chunk("", "x"), where));
  EXPECT_EQ(where, "the chunk has no tag for ${tag[3]} (add tag to the <buffer> chunk keys)");
  auto blocked = env.make({{"directory", env.dir.file("file-in-the-way"), {}}});
  ASSERT_TRUE(buffer::write_file_durably(env.dir.file("file-in-the-way"), "", where)) << where;
  EXPECT_FALSE(blocked->write(chunk("t", "x"), where));
  EXPECT_NE(where.find("file-in-the-way"), std::string::npos) << where;
}

}  // namespace
}  // namespace sluice

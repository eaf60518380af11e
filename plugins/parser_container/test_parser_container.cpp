#include <gtest/gtest.h>

#include "../parser_none/parser_test_util.h"
#include "support/fixtures.h"

namespace sluice {
namespace {

using test::ParserHarness;

std::vector<std::string> keys(std::initializer_list<const char*> k) { return {k.begin(), k.end()}; }

TEST(ParserContainer, FluentBitMixedDockerAndCri) {
  // fluent-bit tests/internal/multiline.c container_mix_input: docker fragments buffered per
  // stream until a newline-terminated one; CRI P/F joined per stream.
  ParserHarness h("container");
  std::vector<std::string> in = {
      R"({"log": "a1\n", "stream": "stdout", "time": "2021-02-01T16:45:03.01231z"})",
      R"({"log": "a2\n", "stream": "stderr", "time": "2021-02-01T16:45:03.01231z"})",
      R"({"log": "bb", "stream": "stdout", "time": "2021-02-01T16:45:03.01232z"})",
      R"({"log": "cc", "stream": "stdout", "time": "2021-02-01T16:45:03.01233z"})",
      R"({"log": "dd", "stream": "stderr", "time": "2021-02-01T16:45:03.01232z"})",
      R"({"log": "ee\n", "stream": "stderr", "time": "2021-02-01T16:45:03.01233z"})",
      "2019-05-07T18:57:52.904275089+00:00 stdout F single full",
      "2019-05-07T18:57:50.904275087+00:00 stdout P 1a. some ",
      "2019-05-07T18:57:51.904275088+00:00 stdout P multiline ",
      "2019-05-07T18:57:52.904275089+00:00 stdout F log",
      "2019-05-07T18:57:50.904275087+00:00 stderr P 1b. some ",
      "2019-05-07T18:57:51.904275088+00:00 stderr P multiline ",
      "2019-05-07T18:57:52.904275089+00:00 stderr F log",
      R"({"log": "dd-out\n", "stream": "stdout", "time": "2021-02-01T16:45:03.01234z"})",
      R"({"log": "dd-err\n", "stream": "stderr", "time": "2021-02-01T16:45:03.01234z"})"};
  // Fed one line per read, as the Fluent Bit test does, and also all at once.
  for (bool one_by_one : {true, false}) {
    ParserHarness p("container");
    if (one_by_one)
      for (auto& l : in) p.feed1(l);
    else
      p.feed(in);
    std::vector<std::string> expected = {"a1\n", "a2\n", "ddee\n", "single full", "1a. some multiline log",
                                         "1b. some multiline log", "bbccdd-out\n", "dd-err\n"};
    ASSERT_EQ(p.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const Value* v = p.find(i, "log");
      if (!v) v = p.find(i, "message");
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(std::string(v->text), expected[i]) << i;
    }
    EXPECT_EQ(p.keys(0), keys({"log", "stream"}));
    EXPECT_EQ(p.keys(3), keys({"stream", "logtag", "message", "time"}));
  }
}

TEST(ParserContainer, DockerCriChain) {
  ParserHarness h("auto");
  h.feed(test::split_lines(test::read_fixture("cri/fluent-bit-docker-cri-chain.input.log"), true));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.str(2, "message"), "third message");
}

TEST(ParserContainer, OtelCases) {
  ParserHarness h("container");
  h.feed({"2024-04-13T07:59:37.505201169-10:00 stdout P standalone crio line which i",
          "2024-04-13T07:59:37.505201169-10:00 stdout F s awesome!",
          R"({"log":"INFO: log line here","stream":"stdout","time":"2029-03-30T08:31:20.545192187Z"})"});
  ASSERT_EQ(h.size(), 1u);  // the docker line has no trailing newline: held until flush
  EXPECT_EQ(h.str(0, "message"), "standalone crio line which is awesome!");
  EXPECT_EQ(h.rec(0).time.sec, 1713031177);  // 2024-04-13T17:59:37Z
  h.flush();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.str(1, "log"), "INFO: log line here");
  EXPECT_EQ(h.rec(1).time.nsec, 545192187u);
}

TEST(ParserContainer, GarbageKept) {
  ParserHarness h("container");
  h.feed({"{not json", "not cri", "2024-05-01T12:00:00Z stdout F fine"});
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.keys(0), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.keys(1), keys({"message", "_parse_error"}));
  EXPECT_EQ(h.str(2, "message"), "fine");
  EXPECT_EQ(h.errors(), 2u);
}

}  // namespace
}  // namespace sluice

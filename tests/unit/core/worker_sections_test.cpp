// <worker N> / <worker N-M>: which directives a worker runs, in which order.
#include <gtest/gtest.h>

#include "config/config.h"
#include "core/worker_sections.h"

namespace sluice {
namespace {

ConfigSection parse(const std::string& text) {
  ParseConfigResult r = parse_config_text(text, "t.conf", ".");
  EXPECT_TRUE(r.errors.empty());
  return r.root;
}

const char* kConfig = R"(
<worker 1-2>
  <match w12>
    @type null
  </match>
</worker>
<match top>
  @type null
</match>
<worker 0>
  <source>
    @type forward
  </source>
</worker>
)";

std::vector<std::string> directives(const WorkerConfig& c) {
  std::vector<std::string> out;
  for (auto& s : c.root.children) out.push_back(s.name + " " + s.arg);
  return out;
}

TEST(WorkerSections, AWorkerRunsTheTopLevelThenItsSectionsInOrder) {
  ConfigSection root = parse(kConfig);
  std::vector<ConfigError> errors;
  WorkerConfig w0 = config_for_worker(root, 0, 3, errors);
  WorkerConfig w2 = config_for_worker(root, 2, 3, errors);
  EXPECT_TRUE(errors.empty());
  // Fluentd appends a <worker>'s directives after the top-level ones: a top-level <match> wins.
  EXPECT_EQ(directives(w0), (std::vector<std::string>{"match top", "source "}));
  EXPECT_EQ(directives(w2), (std::vector<std::string>{"match top", "match w12"}));
  ASSERT_EQ(w0.scoped.count(1), 1u);
  EXPECT_EQ(w0.scoped.at(1).first, 0);
  EXPECT_EQ(w0.scoped.at(1).size(), 1);
  ASSERT_EQ(w2.scoped.count(1), 1u);
  EXPECT_EQ(w2.scoped.at(1).first, 1);
  EXPECT_EQ(w2.scoped.at(1).size(), 2);
  EXPECT_EQ(w0.scoped.count(0), 0u) << "top-level directives run everywhere";
}

TEST(WorkerSections, BadIdsAreErrorsWithTheirLine) {
  ConfigSection root = parse("<worker 0-x>\n</worker>\n<worker 7>\n</worker>\n");
  std::vector<ConfigError> errors;
  WorkerConfig w = config_for_worker(root, 0, 4, errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].to_string(), "t.conf:1: <worker 0-x>: expected a worker id or a range like 0-1");
  EXPECT_EQ(errors[1].to_string(), "t.conf:3: <worker 7>: worker ids go from 0 to 3 (<system> workers 4)");
  EXPECT_TRUE(w.root.children.empty());
}

}  // namespace
}  // namespace sluice

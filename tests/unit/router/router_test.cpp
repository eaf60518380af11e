#include <gtest/gtest.h>

#include "router/router.h"

using namespace sluice;

namespace {

// Records which plugins saw a batch, in order.
struct Trail {
  std::vector<std::string> seen;
};

struct NamedFilter : Filter {
  Trail& trail;
  std::string name;
  NamedFilter(Trail& t, std::string n) : trail(t), name(std::move(n)) {}
  void filter(Batch&) override { trail.seen.push_back(name); }
};

struct NamedOutput : Output {
  Trail& trail;
  std::string name;
  NamedOutput(Trail& t, std::string n) : trail(t), name(std::move(n)) {}
  void write(const Batch& b) override { trail.seen.push_back(name + ":" + std::string(b.tag)); }
};

Batch one(std::string_view tag) {
  Batch b;
  b.tag = tag;
  b.begin_record({1, 0, false});
  return b;
}

}  // namespace

TEST(Router, EmitAfterRunsOnlyTheFiltersAfterTheGivenOne) {
  Metrics metrics;
  Trail trail;
  Router router("", metrics);
  NamedFilter a(trail, "a"), b(trail, "b"), c(trail, "c");
  NamedOutput out(trail, "out");
  router.add_filter(TagPattern("app.**"), &a);
  router.add_filter(TagPattern("app.**"), &b);
  router.add_filter(TagPattern("other"), &c);
  router.add_match(TagPattern("**"), &out);

  Batch x = one("app.x");
  router.emit(x);
  EXPECT_EQ(trail.seen, (std::vector<std::string>{"a", "b", "out:app.x"}));

  trail.seen.clear();
  Batch y = one("app.y");
  router.emit_after(&a, y);
  EXPECT_EQ(trail.seen, (std::vector<std::string>{"b", "out:app.y"}));

  trail.seen.clear();
  Batch z = one("app.z");
  router.emit_after(&b, z);
  EXPECT_EQ(trail.seen, (std::vector<std::string>{"out:app.z"}));

  // A filter that is not on the tag's route: the whole route.
  trail.seen.clear();
  Batch w = one("app.w");
  router.emit_after(&c, w);
  EXPECT_EQ(trail.seen, (std::vector<std::string>{"a", "b", "out:app.w"}));
}

TEST(Router, EmitAfterCountsUnmatchedTags) {
  Metrics metrics;
  Trail trail;
  Router router("@L", metrics);
  NamedFilter a(trail, "a");
  NamedOutput out(trail, "out");
  router.add_filter(TagPattern("**"), &a);
  router.add_match(TagPattern("app.**"), &out);
  Batch x = one("nope");
  router.emit_after(&a, x);
  EXPECT_TRUE(trail.seen.empty());
  EXPECT_EQ(router.unmatched_records(), 1u);
}

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/registry.h"

using namespace sluice;

namespace {

std::vector<std::string> events;

struct Sink : Output {
  std::string name;
  bool fail;
  Sink(std::string n, bool f) : name(std::move(n)), fail(f) {}
  void start() override { events.push_back("start " + name); }
  void write(const Batch& b) override {
    events.push_back("write " + name + " " + std::string(b.tag));
    if (fail) throw std::runtime_error("boom");
  }
  void close(std::function<void()> done) override {
    events.push_back("close " + name);
    done();
  }
};

void add_sink(Registry& reg) {
  PluginSpec spec{"output", "sink", "test", {}, {}};
  spec.params = {{"name", ParamType::String, "", "n"}, {"fail", ParamType::Bool, "false", "f"}};
  reg.add_output(spec, [](PluginContext& ctx, const Params& p) {
    return std::make_unique<Sink>(p.str("name") + "(" + ctx.id + ")", p.flag("fail"));
  });
}

ConfigSection store(const std::string& arg, const std::string& name, bool fail = false) {
  ConfigSection s{"store", arg, {"t.conf", 3}, {{"@type", "sink", {}}, {"name", name, {}}}, {}};
  if (fail) s.params.push_back({"fail", "true", {}});
  return s;
}

struct Fixture {
  Registry reg;
  PluginContext ctx;
  Fixture() {
    register_all_plugins(reg);
    add_sink(reg);
    ctx.registry = &reg;
    ctx.id = "copy0";
    events.clear();
  }
};

}  // namespace

TEST(OutCopy, WritesEachStoreAndClosesInOrder) {
  Fixture f;
  ConfigSection s{"match", "**", {"t.conf", 1}, {{"@type", "copy", {}}, {"copy_mode", "deep", {}}}, {}};
  s.children = {store("", "a"), store("", "b")};
  EXPECT_TRUE(validate_params(s, *f.reg.spec("output", "copy")).empty());
  auto out = f.ctx.make_output(s, "x");
  out->start();
  Batch b;
  b.tag = "t1";
  out->write(b);
  bool done = false;
  out->close([&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(events, (std::vector<std::string>{"start a(copy0.x.store0)", "start b(copy0.x.store1)",
                                              "write a(copy0.x.store0) t1", "write b(copy0.x.store1) t1",
                                              "close a(copy0.x.store0)", "close b(copy0.x.store1)"}));
}

TEST(OutCopy, ErrorStopsLaterStoresUnlessIgnored) {
  Fixture f;
  ConfigSection s{"match", "**", {"t.conf", 1}, {{"@type", "copy", {}}}, {}};
  s.children = {store("ignore_error", "a", true), store("", "b", true), store("", "c")};
  auto out = f.ctx.make_output(s, "x");
  Batch b;
  b.tag = "t";
  EXPECT_NO_THROW(out->write(b));
  EXPECT_EQ(events, (std::vector<std::string>{"write a(copy0.x.store0) t", "write b(copy0.x.store1) t"}));
}

TEST(OutCopy, IgnoreIfPrevSuccess) {
  Fixture f;
  ConfigSection s{"match", "**", {"t.conf", 1}, {{"@type", "copy", {}}}, {}};
  s.children = {store("ignore_error", "a"), store("ignore_if_prev_success", "b")};
  auto out = f.ctx.make_output(s, "x");
  Batch b;
  b.tag = "t";
  out->write(b);
  EXPECT_EQ(events, (std::vector<std::string>{"write a(copy0.x.store0) t"}));
}

TEST(OutCopy, BadStoreArgAndNoStores) {
  Fixture f;
  ConfigSection s{"match", "**", {"t.conf", 1}, {{"@type", "copy", {}}}, {}};
  EXPECT_THROW(f.ctx.make_output(s, "x"), ConfigException);
  s.children = {store("ignore_everything", "a")};
  EXPECT_THROW(f.ctx.make_output(s, "x"), ConfigException);
}

#include <gtest/gtest.h>

#include "rewrite_rule.h"

namespace sluice::rewrite {
namespace {

struct Built {
  bool applied = false;
  std::string tag, unknown;
};

Built apply(const std::string& pattern, const std::string& tag, std::string_view value, bool invert = false,
            std::string_view incoming = "kubernetes.var.log.app", std::string_view remove_prefix = "",
            bool capitalize = false) {
  RegexpValue re;
  re.pattern = pattern;
  Rule rule({"t.conf", 1}, "message", re, tag, invert);
  std::string host = "node-1";
  TagContext ctx;
  ctx.hostname = &host;
  ctx.set(incoming, remove_prefix);
  Built b;
  b.applied = rule.apply(value, ctx, capitalize, b.tag, b.unknown);
  return b;
}

TEST(RewriteRule, BackReferencesThenPlaceholders) {
  Built b = apply("^\\[(\\w+)\\] (\\w+)", "$1.$2.${tag}.__HOSTNAME__", "[error] disk full");
  EXPECT_TRUE(b.applied);
  EXPECT_EQ(b.tag, "error.disk.kubernetes.var.log.app.node-1");
  EXPECT_EQ(apply("(a)|(b)", "x.$2.$1.$9", "a").tag, "x..a.");  // groups that did not take part: ""
  EXPECT_EQ(apply("^(\\w+)", "$1.x", "ERROR", false, "t", "", true).tag, "Error.x");
}

TEST(RewriteRule, TagPartsHostnameAndRemovePrefix) {
  EXPECT_EQ(apply("x", "${tag_parts[0]}.${tag_parts[2]}.${hostname}.__TAG__", "x").tag, "kubernetes.log.node-1.kubernetes.var.log.app");
  EXPECT_EQ(apply("x", "new.${tag}", "x", false, "kubernetes.var.log.app", "kubernetes").tag, "new.var.log.app");
  EXPECT_EQ(apply("x", "${tag_parts[0]}", "x", false, "kubernetes.var", "kubernetes.").tag, "var");
  Built b = apply("x", "a.${tag_parts[9]}.${nope}.b", "x");
  EXPECT_EQ(b.tag, "a...b");
  EXPECT_FALSE(b.unknown.empty());
  // The plugin's placeholder regexp does not reach these: they stay as written.
  EXPECT_EQ(apply("x", "${tag_parts[-1]}.__TAG_PARTS[0]__.$x", "x").tag, "${tag_parts[-1]}.__TAG_PARTS[0]__.$x");
}

TEST(RewriteRule, InvertAndEmptyValues) {
  EXPECT_FALSE(apply("^ok", "bad.$1", "ok", true).applied);
  EXPECT_EQ(apply("^ok", "bad.$1", "fail", true).tag, "bad.$1");  // no back-references when inverted
  EXPECT_FALSE(apply(".*", "x", "").applied);                     // an empty value never matches
  EXPECT_TRUE(apply("^ok", "x", "", true).applied);                // but is "not matching" for invert
}

TEST(RewriteRule, InvalidUtf8IsScrubbedBeforeMatching) {
  EXPECT_EQ(apply("^a(.)b", "t.$1", "a\xff" "b").tag, "t.?");
}

TEST(RewriteRule, ConfigurationErrorsNameTheProblem) {
  RegexpValue bad;
  bad.pattern = "(unclosed";
  try {
    Rule({"t.conf", 7}, "message", bad, "x", false);
    FAIL();
  } catch (const ConfigException& e) {
    EXPECT_NE(e.error.to_string().find("t.conf:7: rewrite_tag_filter: invalid pattern /(unclosed/"), std::string::npos);
  }
  RegexpValue ok;
  ok.pattern = "x";
  EXPECT_THROW(Rule({"t.conf", 7}, "$.a[", ok, "x", false), ConfigException);
}

}  // namespace
}  // namespace sluice::rewrite

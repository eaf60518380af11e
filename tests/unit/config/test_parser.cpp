// The Fluentd config syntax: sections, values, comments, @include, errors with file:line.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

ParseConfigResult parse(const std::string& text) { return parse_config_text(text, "t.conf", "."); }

std::string errors_of(const ParseConfigResult& r) {
  std::string s;
  for (auto& e : r.errors) s += e.to_string() + "\n";
  return s;
}

// A temporary directory with files, removed at the end of the test.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sluice-config-XXXXXX").string();
    dir = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const std::string& rel, const std::string& text) {
    fs::path p = dir / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

TEST(ConfigParser, SectionsParamsAndPositions) {
  auto r = parse(
      "# comment\n"
      "<source>\n"
      "  @type tail\n"
      "  path /var/log/*.log\n"
      "  <parse>\n"
      "    @type json\n"
      "  </parse>\n"
      "</source>\n"
      "\n"
      "<match kubernetes.** other.*>\n"
      "  @type stdout\n"
      "</match>\n");
  ASSERT_EQ(r.errors.size(), 0u) << errors_of(r);
  ASSERT_EQ(r.root.children.size(), 2u);
  const auto& src = r.root.children[0];
  EXPECT_EQ(src.name, "source");
  EXPECT_EQ(src.pos.file, "t.conf");
  EXPECT_EQ(src.pos.line, 2);
  EXPECT_EQ(src.get("@type"), "tail");
  EXPECT_EQ(src.get("path"), "/var/log/*.log");
  EXPECT_EQ(src.param("path")->pos.line, 4);
  ASSERT_NE(src.child("parse"), nullptr);
  EXPECT_EQ(src.child("parse")->get("@type"), "json");
  EXPECT_EQ(src.child("parse")->pos.line, 5);
  EXPECT_EQ(r.root.children[1].arg, "kubernetes.** other.*");
}

TEST(ConfigParser, GenericSectionsNest) {
  auto r = parse(
      "<system>\n  workers 2\n</system>\n"
      "<worker 0-1>\n<source>\n@type forward\n</source>\n</worker>\n"
      "<label @OUT>\n  <filter **>\n    @type grep\n  </filter>\n"
      "  <match **>\n    @type copy\n    <store>\n      @type stdout\n"
      "      <format>\n        @type json\n      </format>\n"
      "      <inject>\n        tag_key tag\n      </inject>\n    </store>\n"
      "    <store>\n      @type file\n      <buffer tag,time>\n        timekey 1h\n"
      "      </buffer>\n    </store>\n  </match>\n</label>\n");
  ASSERT_EQ(r.errors.size(), 0u) << errors_of(r);
  ASSERT_EQ(r.root.children.size(), 3u);
  EXPECT_EQ(r.root.children[1].name, "worker");
  EXPECT_EQ(r.root.children[1].arg, "0-1");
  const auto& label = r.root.children[2];
  EXPECT_EQ(label.arg, "@OUT");
  const auto& match = label.children[1];
  ASSERT_EQ(match.children.size(), 2u);
  EXPECT_EQ(match.children[0].child("inject")->get("tag_key"), "tag");
  EXPECT_EQ(match.children[1].child("buffer")->arg, "tag,time");
}

TEST(ConfigParser, BareValuesAndComments) {
  auto r = parse(
      "<source>\n"
      "  a   value with  spaces   \n"
      "  b value # trailing comment\n"
      "  c value#not-a-comment\n"
      "  d\n"
      "  e #only-comment\n"
      "  f C:\\path\\ends\\\n"
      "  g /^(?<time>.+) (?<log>.*)$/\n"
      "  h \"quoted # kept\" # comment\n"
      "\t# indented comment\n"
      "</source>\n");
  ASSERT_EQ(r.errors.size(), 0u) << errors_of(r);
  const auto& s = r.root.children[0];
  EXPECT_EQ(s.get("a"), "value with  spaces");
  EXPECT_EQ(s.get("b"), "value");
  EXPECT_EQ(s.get("c"), "value#not-a-comment");
  ASSERT_NE(s.param("d"), nullptr);
  EXPECT_EQ(s.get("d"), "");
  EXPECT_EQ(s.get("e"), "#only-comment");  // as Fluentd: the comment becomes the value
  EXPECT_EQ(s.get("f"), "C:\\path\\ends\\");  // a trailing backslash does not continue the line
  EXPECT_EQ(s.get("g"), "/^(?<time>.+) (?<log>.*)$/");
  EXPECT_EQ(s.get("h"), "quoted # kept");
}

TEST(ConfigParser, QuotedStrings) {
  auto r = parse(
      "s1 'it\\'s \\\\ \\n raw'\n"
      "d1 \"tab\\tnl\\nquote\\\" bs\\\\ dollar\\$\"\n"
      "d2 \"line one\n"
      "line two\"\n"
      "d3 \"joined \\\n"
      "here\"\n"
      "d4 \"\"\n");
  ASSERT_EQ(r.errors.size(), 0u) << errors_of(r);
  EXPECT_EQ(r.root.get("s1"), "it's \\ \\n raw");
  EXPECT_EQ(r.root.get("d1"), "tab\tnl\nquote\" bs\\ dollar$");
  EXPECT_EQ(r.root.get("d2"), "line one\nline two");
  EXPECT_EQ(r.root.get("d3"), "joined here");
  EXPECT_EQ(r.root.param("d4")->value, "");
  EXPECT_EQ(r.root.param("d4")->pos.line, 7);
}

TEST(ConfigParser, JsonValuesSpanLines) {
  auto r = parse(
      "<source>\n"
      "  matches [{ \"_SYSTEMD_UNIT\": \"kubelet.service\" }]\n"
      "  hash {\n"
      "    \"a\": 1,  # comment\n"
      "    \"b\": [\"x\", \"y # not a comment\"]\n"
      "  }\n"
      "  after yes\n"
      "</source>\n");
  ASSERT_EQ(r.errors.size(), 0u) << errors_of(r);
  const auto& s = r.root.children[0];
  EXPECT_EQ(s.get("matches"), "[{\"_SYSTEMD_UNIT\":\"kubelet.service\"}]");
  EXPECT_EQ(s.get("hash"), "{\"a\":1,\"b\":[\"x\",\"y # not a comment\"]}");
  EXPECT_EQ(s.param("hash")->pos.line, 3);
  EXPECT_EQ(s.get("after"), "yes");
  EXPECT_EQ(s.param("after")->pos.line, 7);
}

TEST(ConfigParser, BadJsonIsAnError) {
  auto r = parse("a [1, 2\nb ok\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:1: incomplete JSON array value for 'a'");
  EXPECT_EQ(r.root.get("b"), "ok");  // parsing resumes on the next line
  auto r2 = parse("a [x, y]\n");
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0].message, "invalid JSON array value for 'a'");
}

TEST(ConfigParser, LastDuplicateWins) {
  auto r = parse("<source>\n  tag a\n  tag b\n</source>\n");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.root.children[0].params.size(), 1u);
  EXPECT_EQ(r.root.children[0].get("tag"), "b");
  EXPECT_EQ(r.root.children[0].param("tag")->pos.line, 3);
}

TEST(ConfigParser, CrLfLines) {
  auto r = parse("<source>\r\n  @type tail\r\n  path /x # c\r\n</source>\r\n");
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  EXPECT_EQ(r.root.children[0].get("@type"), "tail");
  EXPECT_EQ(r.root.children[0].get("path"), "/x");
}

TEST(ConfigParser, SmallForms) {
  auto r = parse(
      "\xEF\xBB\xBF<source> # comment after the tag\n"
      "  \"quoted key\" v\n"
      "  empty \"#{}\"\n"
      "  nil_inside \"a#{nil}b\"\n"
      "</source>   # and after the close\n"
      "<match  spaced.pattern  >\n</match>\n"
      "<match \"quoted arg\">\n</match>\n");
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  const auto& s = r.root.children[0];
  EXPECT_EQ(s.name, "source");
  EXPECT_EQ(s.get("quoted key"), "v");
  EXPECT_EQ(s.get("empty", "?"), "");
  EXPECT_EQ(s.get("nil_inside"), "ab");
  EXPECT_EQ(r.root.children[1].arg, "spaced.pattern");
  EXPECT_EQ(r.root.children[2].arg, "quoted arg");
}

TEST(ConfigParser, NilInsideAStringMakesTheParamNil) {
  auto r = parse("<inject>\n  tag_key \"pre-#{use_nil}\"\n</inject>\n");
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  EXPECT_EQ(r.root.children[0].param("tag_key"), nullptr);
  EXPECT_TRUE(r.root.children[0].params[0].is_nil);
}

TEST(ConfigParserErrors, UnclosedSection) {
  auto r = parse("<source>\n  @type tail\n<match **>\n  @type null\n");
  ASSERT_EQ(r.errors.size(), 2u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:3: unclosed <match> section opened here");
  EXPECT_EQ(r.errors[1].to_string(), "t.conf:1: unclosed <source> section opened here");
}

TEST(ConfigParserErrors, MismatchedClose) {
  auto r = parse("<source>\n  @type tail\n</match>\n</source>\n<match **>\n</match>\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "t.conf:3: mismatched </match>: expected </source> to close <source> opened at line 1");
  EXPECT_EQ(r.root.children.size(), 2u);
}

TEST(ConfigParserErrors, CloseOfOuterSectionRecovers) {
  auto r = parse("<match **>\n  <buffer>\n    x 1\n</match>\n<source>\n</source>\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:2: unclosed <buffer> section opened here");
  ASSERT_EQ(r.root.children.size(), 2u);
  EXPECT_EQ(r.root.children[1].name, "source");
}

TEST(ConfigParserErrors, StrayCloseAndJunk) {
  auto r = parse("</source>\n<source> junk\n</source>\nk \"v\" extra\n<>\n");
  ASSERT_EQ(r.errors.size(), 4u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:1: unexpected </source> without an open <source> section");
  EXPECT_EQ(r.errors[1].pos.line, 2);
  EXPECT_EQ(r.errors[2].pos.line, 4);
  EXPECT_EQ(r.errors[3].to_string(), "t.conf:5: expected a section name after '<'");
}

TEST(ConfigParserErrors, ReportsManyErrorsWithLines) {
  auto r = parse(
      "a 'unterminated\n"
      "b \"bad escape \\q\"\n"
      "c \"#{system('rm -rf /')}\"\n"
      "d \"never closed\n"
      "e ok\n");
  ASSERT_GE(r.errors.size(), 4u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:1: unterminated single-quoted string");
  EXPECT_EQ(r.errors[1].to_string(), "t.conf:2: unexpected back-slash escape character 'q'");
  EXPECT_EQ(r.errors[2].to_string(), "t.conf:3: unsupported embedded Ruby: system('rm -rf /')");
  EXPECT_EQ(r.errors[3].to_string(), "t.conf:4: unterminated double-quoted string");
  EXPECT_EQ(r.root.get("e"), "ok");
}

TEST(ConfigParserErrors, ReservedPrefix) {
  auto r = parse("<source>\n  @foo 1\n</source>\n<parse>\n  @bar 2\n</parse>\n");
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].pos.line, 2);
  EXPECT_NE(r.errors[0].message.find("'@' is the system reserved prefix"), std::string::npos);
  EXPECT_EQ(r.root.children[1].get("@bar"), "2");
}

TEST(ConfigParserErrors, HugeValue) {
  std::string big(1100000, 'x');
  auto r = parse("a " + big + "\nb \"" + big + "\"\nc ok\n");
  ASSERT_EQ(r.errors.size(), 2u) << r.errors.size();
  EXPECT_EQ(r.errors[0].to_string(), "t.conf:1: value of 'a' is larger than 1 MiB");
  EXPECT_EQ(r.errors[1].pos.line, 2);
  EXPECT_EQ(r.root.get("c"), "ok");
}

TEST(ConfigParserErrors, DeepNestingIsBounded) {
  std::string text;
  for (int k = 0; k < 5000; ++k) text += "<a>\n";
  auto r = parse(text);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].message.find("nested deeper"), std::string::npos);
}

TEST(ConfigInclude, RelativeGlobAndInsideSection) {
  TempDir t;
  t.write("conf/fluent.conf",
          "@include sub/a.conf\n"
          "@include conf.d/*.conf\n"
          "@include \"#{ENV['SLUICE_TEST_UNSET_X'] || 'named'}.conf\"\n"
          "<source>\n  @type tail\n  @include ../parse.conf\n</source>\n");
  t.write("conf/sub/a.conf", "<match a>\n  @type null\n</match>\n");
  t.write("conf/named.conf", "<match named>\n  @type null\n</match>\n");
  t.write("parse.conf", "<parse>\n  @type json\n</parse>\ntag x\n");
  unsetenv("SLUICE_TEST_UNSET_X");
  auto r = parse_config_file((t.dir / "conf/fluent.conf").string());
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  ASSERT_EQ(r.root.children.size(), 3u);
  EXPECT_EQ(r.root.children[0].arg, "a");
  EXPECT_EQ(r.root.children[0].pos.file, (t.dir / "conf/sub/a.conf").string());
  EXPECT_EQ(r.root.children[1].arg, "named");
  const auto& src = r.root.children[2];
  ASSERT_NE(src.child("parse"), nullptr);
  EXPECT_EQ(src.child("parse")->get("@type"), "json");
  EXPECT_EQ(src.child("parse")->pos.file, (t.dir / "parse.conf").string());
  EXPECT_EQ(src.get("tag"), "x");
}

TEST(ConfigInclude, BareIncludeAtRootAndFileScheme) {
  TempDir t;
  t.write("a.conf", "<match a>\n</match>\n");
  t.write("b.conf", "<match b>\n</match>\n");
  std::string main = t.write("main.conf", "include a.conf\n@include file://" +
                                              (t.dir / "b.conf").string() + "\n");
  auto r = parse_config_file(main);
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  EXPECT_EQ(r.root.children.size(), 2u);
  auto remote = parse("@include http://example.com/x.conf\n");
  ASSERT_EQ(remote.errors.size(), 1u);
  EXPECT_NE(remote.errors[0].message.find("only local files"), std::string::npos);
}

TEST(ConfigInclude, GlobsAreSorted) {
  TempDir t;
  t.write("main.conf", "@include d/*.conf\n");
  t.write("d/b.conf", "<match b>\n</match>\n");
  t.write("d/a.conf", "<match a>\n</match>\n");
  t.write("d/c.txt", "<match c>\n</match>\n");
  auto r = parse_config_file((t.dir / "main.conf").string());
  ASSERT_TRUE(r.errors.empty()) << errors_of(r);
  ASSERT_EQ(r.root.children.size(), 2u);
  EXPECT_EQ(r.root.children[0].arg, "a");
  EXPECT_EQ(r.root.children[1].arg, "b");
}

TEST(ConfigInclude, MissingFileIsAnError) {
  TempDir t;
  std::string main = t.write("main.conf", "# x\n<source>\n  @include nope.conf\n</source>\n");
  auto r = parse_config_file(main);
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].pos.file, main);
  EXPECT_EQ(r.errors[0].pos.line, 3);
  EXPECT_NE(r.errors[0].message.find("nope.conf: file not found"), std::string::npos);
}

TEST(ConfigInclude, ErrorsInIncludedFileNameThatFile) {
  TempDir t;
  std::string main = t.write("main.conf", "@include inc.conf\n");
  std::string inc = t.write("inc.conf", "\n\n<source>\n");
  auto r = parse_config_file(main);
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].to_string(), inc + ":3: unclosed <source> section opened here");
}

TEST(ConfigInclude, CycleIsAnError) {
  TempDir t;
  std::string a = t.write("a.conf", "@include b.conf\n");
  std::string b = t.write("b.conf", "x 1\n@include a.conf\n");
  auto r = parse_config_file(a);
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_EQ(r.errors[0].pos.file, b);
  EXPECT_EQ(r.errors[0].pos.line, 2);
  EXPECT_NE(r.errors[0].message.find("cycle"), std::string::npos);
  auto self = parse_config_file(t.write("self.conf", "@include self.conf\n"));
  EXPECT_EQ(self.errors.size(), 1u);
}

TEST(ConfigInclude, DepthIsBounded) {
  TempDir t;
  for (int k = 0; k < 40; ++k)
    t.write("f" + std::to_string(k) + ".conf", "@include f" + std::to_string(k + 1) + ".conf\n");
  t.write("f40.conf", "x 1\n");
  auto r = parse_config_file((t.dir / "f0.conf").string());
  ASSERT_EQ(r.errors.size(), 1u) << errors_of(r);
  EXPECT_NE(r.errors[0].message.find("deeper than 32"), std::string::npos);
}

TEST(ConfigInclude, UnreadableTopLevelFile) {
  auto r = parse_config_file("/nonexistent/sluice.conf");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("/nonexistent/sluice.conf"), std::string::npos);
}

}  // namespace
}  // namespace sluice

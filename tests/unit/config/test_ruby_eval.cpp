// The embedded-Ruby subset, directly and through double-quoted config values.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "config/ruby_eval.h"

namespace sluice {
namespace {

std::string eval_ok(const std::string& code) {
  auto r = ruby::eval_embedded(code);
  EXPECT_TRUE(r.ok) << code << ": " << r.error;
  return r.value;
}

std::string eval_error(const std::string& code) {
  auto r = ruby::eval_embedded(code);
  EXPECT_FALSE(r.ok) << code << " gave " << r.value;
  return r.error;
}

class RubyEval : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("SLUICE_T_SET", "value", 1);
    setenv("SLUICE_T_EMPTY", "", 1);
    unsetenv("SLUICE_T_UNSET");
  }
  void TearDown() override {
    unsetenv("SLUICE_T_SET");
    unsetenv("SLUICE_T_EMPTY");
  }
};

TEST_F(RubyEval, EnvLookups) {
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_SET']"), "value");
  EXPECT_EQ(eval_ok("ENV[\"SLUICE_T_SET\"]"), "value");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET']"), "");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || 'default'"), "default");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || \"dq\""), "dq");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_SET'] || 'default'"), "value");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_EMPTY'] || 'default'"), "");  // "" is truthy in Ruby
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || nil"), "");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || false"), "false");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || true"), "true");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || 1"), "1");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'] || -1"), "-1");
  EXPECT_EQ(eval_ok("ENV.fetch('SLUICE_T_SET')"), "value");
  EXPECT_EQ(eval_ok("ENV.fetch('SLUICE_T_UNSET', 'dflt')"), "dflt");
  EXPECT_EQ(eval_ok("ENV.key?('SLUICE_T_SET') ? 'y' : 'n'"), "y");
}

TEST_F(RubyEval, UseNilAndUseDefault) {
  auto n = ruby::eval_embedded("ENV['SLUICE_T_UNSET'] || use_nil");
  EXPECT_TRUE(n.ok);
  EXPECT_TRUE(n.use_nil);
  auto d = ruby::eval_embedded("ENV['SLUICE_T_UNSET'] || use_default");
  EXPECT_TRUE(d.ok);
  EXPECT_TRUE(d.use_default);
  auto s = ruby::eval_embedded("ENV['SLUICE_T_SET'] || use_nil");
  EXPECT_FALSE(s.use_nil);
  EXPECT_EQ(s.value, "value");
}

TEST_F(RubyEval, FetchWithoutDefaultRaises) {
  std::string e = eval_error("ENV.fetch('SLUICE_T_UNSET')");
  EXPECT_NE(e.find("SLUICE_T_UNSET"), std::string::npos) << e;
  EXPECT_EQ(eval_ok("ENV.fetch('SLUICE_T_UNSET') rescue 'saved'"), "saved");
}

TEST_F(RubyEval, FileJoin) {
  EXPECT_EQ(eval_ok("File.join('/var/log/', ENV.fetch('SLUICE_T_UNSET', ''), 'x.pos')"),
            "/var/log/x.pos");
  EXPECT_EQ(eval_ok("File.join('/var/log/', ENV.fetch('SLUICE_T_SET', ''), 'x.pos')"),
            "/var/log/value/x.pos");
  EXPECT_EQ(eval_ok("File.join('a', 'b')"), "a/b");
  EXPECT_EQ(eval_ok("File.join('a/', '/b')"), "a/b");
  EXPECT_EQ(eval_ok("File.join('', 'b')"), "/b");
  EXPECT_EQ(eval_ok("File.join('a', '')"), "a/");
  EXPECT_EQ(eval_ok("File.join('a')"), "a");
}

TEST_F(RubyEval, ExpressionsAndBuiltins) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(eval_ok("hostname"), host);
  EXPECT_EQ(eval_ok("Socket.gethostname"), host);
  EXPECT_EQ(eval_ok("'pre-' + hostname"), std::string("pre-") + host);
  EXPECT_EQ(eval_ok("worker_id"), "0");
  ruby::set_worker_id(3);
  EXPECT_EQ(eval_ok("'tail.' + worker_id + '.pos'"), "tail.3.pos");
  ruby::set_worker_id(0);
  EXPECT_EQ(eval_ok("worker_id"), "0");
  EXPECT_EQ(eval_ok("a = 'x'; b = a + 'y'; (b + a)"), "xyx");
  EXPECT_EQ(eval_ok("nil ? 'a' : 'b'"), "b");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_SET'] == 'value' ? 'eq' : 'ne'"), "eq");
  EXPECT_EQ(eval_ok("!ENV['SLUICE_T_UNSET']"), "true");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_SET'] && 'both'"), "both");
  EXPECT_EQ(eval_ok("nil"), "");
  EXPECT_EQ(eval_ok("1 + 2"), "3");
  EXPECT_EQ(eval_ok("\"in #{ENV['SLUICE_T_SET']} out\""), "in value out");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_SET'].upcase"), "VALUE");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'].to_s"), "");
  EXPECT_EQ(eval_ok("ENV['SLUICE_T_UNSET'].nil?"), "true");
}

TEST_F(RubyEval, KubernetesUrl) {
  const std::string code =
      "ENV['FLUENT_FILTER_KUBERNETES_URL'] || (host = ENV.fetch('KUBERNETES_SERVICE_HOST'); "
      "port = ENV.fetch('KUBERNETES_SERVICE_PORT'); host = (IPAddr.new(host).ipv6? ? '[' + host + "
      "']' : host rescue host); 'https://' + host + ':' + port + '/api')";
  unsetenv("FLUENT_FILTER_KUBERNETES_URL");
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  EXPECT_EQ(eval_ok(code), "https://10.0.0.1:443/api");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(eval_ok(code), "https://[fd00::1]:443/api");
  setenv("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc", 1);  // IPAddr.new raises: rescue
  EXPECT_EQ(eval_ok(code), "https://kubernetes.default.svc:443/api");
  setenv("FLUENT_FILTER_KUBERNETES_URL", "https://api:6443", 1);
  EXPECT_EQ(eval_ok(code), "https://api:6443");
  unsetenv("FLUENT_FILTER_KUBERNETES_URL");
  unsetenv("KUBERNETES_SERVICE_HOST");
  std::string e = eval_error(code);
  EXPECT_NE(e.find("KUBERNETES_SERVICE_HOST"), std::string::npos) << e;
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
}

TEST_F(RubyEval, UnsupportedIsRejectedUnevaluated) {
  for (const char* code :
       {"system('id')", "`id`", "File.read('/etc/passwd')", "ENV['A'].gsub(/x/, 'y')",
        "exit", "ENV['X'] = 'y'", "unknown_local", "1 +", "(", "'open", "Kernel.exec('x')",
        "ENV['A'] or 'b'", "[1,2]", "{}", "$stdout", "@x", "x.instance_eval('1')", "ENV.to_h", "ENV || 1", "'a'.send(:x)"}) {
    auto r = ruby::eval_embedded(code);
    EXPECT_FALSE(r.ok) << code;
    EXPECT_EQ(r.error.rfind("unsupported embedded Ruby: ", 0), 0u) << code << ": " << r.error;
  }
  EXPECT_EQ(setenv("SLUICE_T_KEEP", "1", 1), 0);
  ruby::eval_embedded("ENV['SLUICE_T_KEEP'] = 'changed'");
  EXPECT_STREQ(getenv("SLUICE_T_KEEP"), "1");
}

TEST_F(RubyEval, RuntimeErrors) {
  EXPECT_NE(eval_error("'a' + 1").find("embedded Ruby failed"), std::string::npos);
  EXPECT_NE(eval_error("nil + 'a'").find("embedded Ruby failed"), std::string::npos);
  EXPECT_EQ(eval_ok("(nil + 'a') rescue 'ok'"), "ok");
}

TEST_F(RubyEval, FindEmbeddedEnd) {
  std::string s = "#{ENV['a}'] || \"}\" || {x}} tail";
  size_t end = ruby::find_embedded_end(s, 2);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(s.substr(end), "} tail");
  EXPECT_EQ(ruby::find_embedded_end("#{ENV['x'", 2), std::string::npos);
}

TEST_F(RubyEval, InConfigValues) {
  auto r = parse_config_text(
      "<match **>\n"
      "  a \"#{ENV['SLUICE_T_SET']}\"\n"
      "  b \"pre-#{ENV['SLUICE_T_UNSET'] || 'x'}-#{ENV['SLUICE_T_SET']}\"\n"
      "  c \"#{ENV['SLUICE_T_UNSET'] || use_nil}\"\n"
      "  d \"#{ENV['SLUICE_T_UNSET'] || use_default}\"\n"
      "  e \"#{ENV['SLUICE_T_UNSET'] || nil}\"\n"
      "  f '#{ENV[\"SLUICE_T_SET\"]}'\n"
      "  g #{ENV['SLUICE_T_SET']}\n"
      "  h [\"#{ENV['SLUICE_T_SET']}\", 2]\n"
      "  @type \"#{ENV['SLUICE_T_UNSET'] || 'stdout'}\"\n"
      "</match>\n"
      "<match \"#{ENV['SLUICE_T_SET']}.**\">\n</match>\n",
      "t.conf", ".");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].to_string();
  const auto& m = r.root.children[0];
  EXPECT_EQ(m.get("a"), "value");
  EXPECT_EQ(m.get("b"), "pre-x-value");
  EXPECT_EQ(m.param("c"), nullptr);  // use_nil: counts as not given
  ASSERT_EQ(m.params[2].key, "c");
  EXPECT_TRUE(m.params[2].is_nil);
  EXPECT_EQ(m.param("d"), nullptr);
  EXPECT_EQ(m.get("e", "?"), "");
  EXPECT_EQ(m.get("f"), "#{ENV[\"SLUICE_T_SET\"]}");  // single quotes: no evaluation
  EXPECT_EQ(m.get("g"), "#{ENV['SLUICE_T_SET']}");    // bare value: no evaluation
  EXPECT_EQ(m.get("h"), "[\"value\",2]");
  EXPECT_EQ(m.get("@type"), "stdout");
  EXPECT_EQ(r.root.children[1].arg, "value.**");
}

TEST_F(RubyEval, ConfigErrorsNameFileLineAndVariable) {
  unsetenv("SLUICE_T_REQUIRED");
  auto r = parse_config_text(
      "<source>\n  @type tail\n  path \"#{ENV.fetch('SLUICE_T_REQUIRED')}\"\n"
      "  tag \"#{`id`}\"\n</source>\n",
      "k.conf", ".");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].pos.line, 3);
  EXPECT_NE(r.errors[0].to_string().find("k.conf:3: embedded Ruby failed"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("SLUICE_T_REQUIRED"), std::string::npos);
  EXPECT_EQ(r.errors[1].to_string(), "k.conf:4: unsupported embedded Ruby: `id`");
}

}  // namespace
}  // namespace sluice

// The real fluentd-kubernetes-daemonset configuration trees, and robustness against mangled input.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "config/config.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> daemonset_configs() {
  std::vector<fs::path> out;
  fs::path root = fs::path(SLUICE_FIXTURES) / "fluentd-k8s-daemonset" / "docker-image";
  std::error_code ec;
  for (auto& version : fs::directory_iterator(root, ec))
    for (auto& variant : fs::directory_iterator(version.path(), ec)) {
      fs::path conf = variant.path() / "conf" / "fluent.conf";
      if (fs::exists(conf)) out.push_back(conf);
    }
  std::sort(out.begin(), out.end());
  return out;
}

void set_k8s_env() {
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  unsetenv("FLUENT_FILTER_KUBERNETES_URL");
  unsetenv("FLUENTD_SYSTEMD_CONF");
  unsetenv("FLUENTD_PROMETHEUS_CONF");
  unsetenv("FLUENT_POS_EXTRA_DIR");
  unsetenv("FLUENT_CONTAINER_TAIL_PARSER_TYPE");
}

std::vector<const ConfigSection*> all(const ConfigSection& s, const std::string& name) {
  std::vector<const ConfigSection*> out;
  for (auto& c : s.children)
    if (c.name == name) out.push_back(&c);
  return out;
}

TEST(DaemonsetConfigs, AllParseWithoutErrors) {
  set_k8s_env();
  auto confs = daemonset_configs();
  ASSERT_GE(confs.size(), 9u);
  for (auto& conf : confs) {
    auto r = parse_config_file(conf.string());
    std::string errs;
    for (auto& e : r.errors) errs += e.to_string() + "\n";
    EXPECT_TRUE(r.errors.empty()) << conf << ":\n" << errs;
    // Every variant: one catch-all output, the @FLUENT_LOG label, the kubernetes filter,
    // and tail sources each with a <parse>.
    auto matches = all(r.root, "match");
    ASSERT_EQ(matches.size(), 1u) << conf;
    EXPECT_EQ(matches[0]->arg, "**");
    auto labels = all(r.root, "label");
    ASSERT_EQ(labels.size(), 1u) << conf;
    EXPECT_EQ(labels[0]->arg, "@FLUENT_LOG");
    ASSERT_NE(labels[0]->child("match"), nullptr);
    EXPECT_EQ(labels[0]->child("match")->arg, "fluent.**");
    EXPECT_EQ(labels[0]->child("match")->get("@type"), "null");
    auto filters = all(r.root, "filter");
    ASSERT_EQ(filters.size(), 1u) << conf;
    EXPECT_EQ(filters[0]->get("@type"), "kubernetes_metadata");
    EXPECT_EQ(filters[0]->get("kubernetes_url"), "https://10.0.0.1:443/api");
    int tails = 0;
    for (auto* s : all(r.root, "source"))
      if (s->get("@type") == "tail") {
        ++tails;
        EXPECT_NE(s->child("parse"), nullptr) << conf << " " << s->get("@id");
      }
    EXPECT_EQ(tails, 14) << conf;
  }
}

TEST(DaemonsetConfigs, Elasticsearch7Structure) {
  set_k8s_env();
  fs::path conf = fs::path(SLUICE_FIXTURES) /
                  "fluentd-k8s-daemonset/docker-image/v1.18/debian-elasticsearch7/conf/fluent.conf";
  auto r = parse_config_file(conf.string());
  ASSERT_TRUE(r.errors.empty());
  auto sources = all(r.root, "source");
  // 3 systemd + 1 prometheus + 1 prometheus_output_monitor + 14 tail.
  EXPECT_EQ(sources.size(), 19u);
  const ConfigSection* match = r.root.child("match");
  ASSERT_NE(match, nullptr);
  EXPECT_EQ(match->get("@type"), "elasticsearch");
  EXPECT_EQ(match->get("@id"), "out_es");
  EXPECT_EQ(match->get("scheme"), "http");
  EXPECT_EQ(match->get("logstash_dateformat"), "%Y.%m.%d");
  EXPECT_EQ(match->param("user"), nullptr);         // use_default
  EXPECT_EQ(match->param("template_name"), nullptr);  // use_nil
  EXPECT_EQ(match->get("host", "?"), "");           // ENV['...'] unset: ""
  EXPECT_EQ(match->pos.line, 10);
  const ConfigSection* buffer = match->child("buffer");
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(buffer->get("flush_thread_count"), "8");
  EXPECT_EQ(buffer->get("chunk_limit_size"), "2M");
  EXPECT_EQ(buffer->get("retry_forever"), "true");

  const ConfigSection* containers = nullptr;
  const ConfigSection* docker = nullptr;
  const ConfigSection* kubelet = nullptr;
  for (auto* s : sources) {
    if (s->get("@id") == "in_tail_container_logs") containers = s;
    if (s->get("@id") == "in_tail_docker") docker = s;
    if (s->get("@id") == "in_systemd_kubelet") kubelet = s;
  }
  ASSERT_TRUE(containers && docker && kubelet);
  EXPECT_EQ(containers->get("path"), "/var/log/containers/*.log");
  EXPECT_EQ(containers->get("pos_file"), "/var/log/fluentd-containers.log.pos");
  EXPECT_EQ(containers->get("tag"), "kubernetes.*");
  EXPECT_EQ(containers->get("read_from_head"), "true");
  ASSERT_EQ(containers->params.size(), 7u);  // exclude_path is there, as nil (use_default)
  EXPECT_EQ(containers->param("exclude_path"), nullptr);
  EXPECT_EQ(containers->child("parse")->get("@type"), "json");
  EXPECT_EQ(containers->child("parse")->get("time_format"), "%Y-%m-%dT%H:%M:%S.%NZ");
  EXPECT_NE(containers->child("parse")->pos.file.find("tail_container_parse.conf"),
            std::string::npos);
  EXPECT_EQ(docker->child("parse")->get("expression").substr(0, 22), "/^time=\"(?<time>[^)]*)");
  EXPECT_EQ(kubelet->get("matches"), "[{\"_SYSTEMD_UNIT\":\"kubelet.service\"}]");
  EXPECT_EQ(kubelet->child("storage")->get("persistent"), "true");
  EXPECT_EQ(kubelet->child("entry")->get("fields_strip_underscores"), "true");
}

TEST(DaemonsetConfigs, EnvChangesIncludesAndValues) {
  set_k8s_env();
  setenv("FLUENTD_SYSTEMD_CONF", "disable", 1);  // disable.conf does not exist: an error
  setenv("FLUENT_CONTAINER_TAIL_PARSER_TYPE", "cri", 1);
  setenv("FLUENT_POS_EXTRA_DIR", "extra", 1);
  fs::path conf = fs::path(SLUICE_FIXTURES) /
                  "fluentd-k8s-daemonset/docker-image/v1.19/debian-kafka2/conf/fluent.conf";
  auto r = parse_config_file(conf.string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].pos.line, 5);
  EXPECT_NE(r.errors[0].message.find("disable.conf"), std::string::npos);
  for (auto* s : all(r.root, "source"))
    if (s->get("@id") == "in_tail_container_logs") {
      EXPECT_EQ(s->child("parse")->get("@type"), "cri");
      EXPECT_EQ(s->get("pos_file"), "/var/log/extra/fluentd-containers.log.pos");
    }
  const ConfigSection* match = r.root.child("match");
  EXPECT_EQ(match->get("@type"), "kafka2");
  EXPECT_EQ(match->get("required_acks"), "-1");
  EXPECT_EQ(match->get("max_send_retries"), "1");
  EXPECT_EQ(match->get("exclude_topic_key"), "false");
  EXPECT_EQ(match->get("default_topic", "?"), "");
  EXPECT_EQ(match->child("format")->get("@type"), "json");
  unsetenv("KUBERNETES_SERVICE_HOST");
  set_k8s_env();
  unsetenv("KUBERNETES_SERVICE_HOST");
  auto missing = parse_config_file(conf.string());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].to_string().find("kubernetes.conf:"), std::string::npos);
  EXPECT_NE(missing.errors[0].message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  set_k8s_env();
}

// Mangled versions of the real configs (byte flips, truncation, NULs, splices, huge lines)
// must parse to a result, never crash or hang.
TEST(ConfigFuzz, MutatedRealConfigsNeverCrash) {
  set_k8s_env();
  std::vector<std::string> corpus;
  fs::path root = fs::path(SLUICE_FIXTURES) /
                  "fluentd-k8s-daemonset/docker-image/v1.18/debian-elasticsearch7/conf";
  for (auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    corpus.push_back(ss.str());
  }
  ASSERT_FALSE(corpus.empty());
  std::mt19937 rng(12345);
  const std::string tokens[] = {"<", ">", "</", "\"", "'", "#{", "}", "[", "{", "]", "\\",
                                "\n", "#", "@include ", "<source>", "</match>", "\0", "\r",
                                "ENV['", "||", "(", ")", "?", ":", "rescue", "use_nil"};
  size_t parsed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string s = corpus[rng() % corpus.size()];
    int edits = 1 + int(rng() % 8);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t at = rng() % (s.size() + 1);
      switch (rng() % 6) {
        case 0: s[std::min(at, s.size() - 1)] = char(rng() % 256); break;
        case 1: s.resize(at); break;
        case 2: s.insert(at, tokens[rng() % std::size(tokens)]); break;
        case 3: s.erase(at, rng() % 40); break;
        case 4: s.insert(at, corpus[rng() % corpus.size()].substr(0, rng() % 300)); break;
        case 5: s.insert(at, std::string(1 + rng() % 5, char(rng() % 256))); break;
      }
    }
    auto r = parse_config_text(s, "fuzz.conf", "/nonexistent-dir");
    for (auto& e : r.errors) EXPECT_GT(e.pos.line, 0) << e.message;
    ++parsed;
  }
  EXPECT_EQ(parsed, 3000u);
  std::string random;
  for (int k = 0; k < 200000; ++k) random += char(rng() % 256);
  parse_config_text(random, "random.conf", ".");
  parse_config_text(std::string(3 << 20, 'x'), "long.conf", ".");
  parse_config_text("k \"" + std::string(3 << 20, '#') + "\n", "long2.conf", ".");
  parse_config_text(std::string(100000, '['), "brackets.conf", ".");
  parse_config_text("k \"#{" + std::string(100000, '(') + "}\"\n", "parens.conf", ".");
  parse_config_text("k \"" + std::string(2000, '"') + "#{" + std::string(50000, '"') + "\n", "q.conf", ".");
}

// Inputs that would take quadratic time with naive error recovery finish quickly.
TEST(ConfigFuzz, PathologicalInputsAreLinear) {
  auto start = std::chrono::steady_clock::now();
  auto repeat = [](const std::string& s, int n) {
    std::string r;
    for (int k = 0; k < n; ++k) r += s;
    return r;
  };
  auto r1 = parse_config_text("k a" + std::string(500000, ' ') + "x\n", "a.conf", ".");
  EXPECT_EQ(r1.root.get("k").size(), 500002u);
  auto r2 = parse_config_text("k \"\n" + repeat("a \\\"\n", 100000), "b.conf", ".");
  EXPECT_EQ(r2.errors.size(), 1u);
  auto r3 = parse_config_text(repeat("k \"#{'\n", 100000), "c.conf", ".");
  EXPECT_EQ(r3.errors.size(), 1000u);
  auto r4 = parse_config_text(repeat("k [\n", 100000), "d.conf", ".");
  EXPECT_EQ(r4.errors.size(), 2u);  // resumed once, then the file is given up
  auto r5 = parse_config_text(repeat("k \"" + std::string(1100000, 'x') + "\"\n", 20), "e.conf", ".");
  EXPECT_EQ(r5.errors.size(), 20u);
  auto r6 = parse_config_text(repeat("<a>\n</b>\n", 50000), "f.conf", ".");
  EXPECT_FALSE(r6.errors.empty());
  auto r7 = parse_config_text(repeat("k \"#{\"#{\"#{", 30000), "g.conf", ".");
  EXPECT_FALSE(r7.errors.empty());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 20.0);
}

}  // namespace
}  // namespace sluice

// Parsing (real kubelet PodList), tag regexps, Downward API files and rendering of the maps.
#include "k8s_meta.h"

#include <gtest/gtest.h>

#include "format/msgpack.h"
#include "support/test_support.h"

using namespace sluice;
using namespace sluice::k8s;

namespace {
std::string fixture(const std::string& rel) { return sluice::testing::read_file(sluice::testing::fixture_path(rel)); }
const char* kNri = "kubelet/nri-kubernetes/kubelet-pods-k8s-1.35-kind-containerd.json";
}  // namespace

TEST(K8sParse, RealKubeletPodList) {
  std::vector<Pod> pods;
  std::string err;
  ASSERT_TRUE(parse_pod_list(fixture(kNri), pods, err)) << err;
  ASSERT_EQ(pods.size(), 24u);
  const Pod* hpa = nullptr;
  for (auto& p : pods)
    if (p.name == "e2e-hpa-6cd8d99884-tggnr") hpa = &p;
  ASSERT_NE(hpa, nullptr);
  EXPECT_EQ(hpa->ns, "scraper");
  EXPECT_EQ(hpa->uid, "3ea3ef66-5f89-43b7-b88b-6ee26f5b18a4");
  EXPECT_EQ(hpa->pod_ip, "10.244.0.6");
  EXPECT_EQ(hpa->host, "datagen-1-35");
  EXPECT_EQ(hpa->labels.size(), 3u);
  ASSERT_EQ(hpa->containers.size(), 1u);
  EXPECT_EQ(hpa->containers[0].name, "php-apache");
  EXPECT_EQ(hpa->containers[0].container_id.size(), 64u);
  EXPECT_EQ(hpa->containers[0].container_id.find("://"), std::string::npos);
}

TEST(K8sParse, TerminatedStates) {
  std::vector<Pod> pods;
  std::string err;
  ASSERT_TRUE(parse_pod_list(fixture("kubelet/derived/podlist-failjob-with-termination-message.DERIVED.json"), pods, err)) << err;
  ASSERT_EQ(pods.size(), 1u);
  const auto& c = pods[0].containers.at(0);
  EXPECT_TRUE(c.terminated.present);
  EXPECT_EQ(c.terminated.exit_code, 42);
  EXPECT_EQ(c.terminated.reason, "Error");
  EXPECT_NE(c.terminated.message.find("exit with 42"), std::string::npos);
}

TEST(K8sParse, GarbageAndTruncatedAreErrors) {
  std::vector<Pod> pods;
  std::string err;
  std::string doc = fixture(kNri);
  EXPECT_FALSE(parse_pod_list(doc.substr(0, doc.size() / 2), pods, err));
  EXPECT_TRUE(pods.empty());
  EXPECT_FALSE(err.empty());
  EXPECT_FALSE(parse_pod_list("<html>oops</html>", pods, err));
  EXPECT_FALSE(parse_pod_list("{\"kind\":\"Status\",\"code\":401}", pods, err));
  EXPECT_FALSE(parse_pod_list("", pods, err));
  EXPECT_TRUE(parse_pod_list("{\"kind\":\"PodList\",\"items\":[]}", pods, err));
}

TEST(K8sTag, ContainersAndPodsDirs) {
  TagMatcher m;
  TagInfo t;
  std::string id(64, 'a');
  ASSERT_TRUE(m.match("kubernetes.var.log.containers.web-5c8d7f6b9-q8w7e_shop_nginx-" + id + ".log", t));
  EXPECT_EQ(t.pod, "web-5c8d7f6b9-q8w7e");
  EXPECT_EQ(t.ns, "shop");
  EXPECT_EQ(t.container, "nginx");
  EXPECT_EQ(t.docker_id, id);
  ASSERT_TRUE(m.match("var.log.pods.default_fabric8-console-controller-98rqc_c76927af-f563-11e4-b32d-54ee7527188d.fabric8-console-container.0.log", t));
  EXPECT_EQ(t.ns, "default");
  EXPECT_EQ(t.pod, "fabric8-console-controller-98rqc");
  EXPECT_EQ(t.pod_uid, "c76927af-f563-11e4-b32d-54ee7527188d");
  EXPECT_EQ(t.container, "fabric8-console-container");
  EXPECT_TRUE(t.docker_id.empty());
  ASSERT_TRUE(m.match("var.log.containers.fabric8-console-controller.98rqc_default_fabric8-console-container-" + id + ".log", t));
  EXPECT_EQ(t.pod, "fabric8-console-controller.98rqc");
  EXPECT_FALSE(m.match("kubernetes.var.log.syslog", t));
  EXPECT_FALSE(m.match("var.log.containers.short_ns_c-abc.log", t));
}

TEST(K8sDownward, LabelsFile) {
  auto m = parse_downward_api("app=\"web\"\npod-template-hash=\"5c8d7f6b9\"\nquote=\"a \\\"b\\\" \\u00e9\\n\"\nbroken\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], (std::pair<std::string, std::string>{"app", "web"}));
  EXPECT_EQ(m[1].second, "5c8d7f6b9");
  EXPECT_EQ(m[2].second, "a \"b\" \xc3\xa9\n");
}

TEST(K8sRender, FluentdOrderAndFallback) {
  std::vector<Pod> pods;
  std::string err;
  ASSERT_TRUE(parse_pod_list(fixture(kNri), pods, err));
  PodStore store;
  store.update(pods, 1);
  TagMatcher m;
  TagInfo t;
  const Pod* p = store.find_name("scraper", "e2e-hpa-6cd8d99884-tggnr");
  ASSERT_NE(p, nullptr);
  std::string cid = p->containers[0].container_id;
  ASSERT_TRUE(m.match("kubernetes.var.log.containers.e2e-hpa-6cd8d99884-tggnr_scraper_php-apache-" + cid + ".log", t));
  ASSERT_EQ(store.find(t), p);
  RenderOptions o;
  o.master_url = "https://10.96.0.1:443/api";
  Rendered r;
  render(t, store.find(t), nullptr, o, r);
  EXPECT_TRUE(r.enriched);
  EXPECT_EQ(r.docker_json, "{\"container_id\":\"" + cid + "\"}");
  // Key order of Fluentd 3.x: tag part, container, pod, labels, master_url.
  std::string k = r.kube_json;
  size_t a = k.find("\"container_name\""), b = k.find("\"namespace_name\""), c = k.find("\"pod_name\""),
         d = k.find("\"container_image\""), e = k.find("\"container_image_id\""), f = k.find("\"pod_id\""),
         g = k.find("\"pod_ip\""), h = k.find("\"host\""), i = k.find("\"labels\""), j = k.find("\"master_url\"");
  EXPECT_TRUE(a < b && b < c && c < d && d < e && e < f && f < g && g < h && h < i && i < j) << k;
  EXPECT_EQ(k.find("annotations"), std::string::npos);
  // msgpack is the same map.
  std::string pack;
  ASSERT_TRUE(msgpack::append_json(pack, r.kube_json));
  EXPECT_EQ(pack, r.kube_pack);

  // Unknown pod: what the tag gives.
  TagInfo u;
  ASSERT_TRUE(m.match("kubernetes.var.log.containers.gone-1_ns_c-" + std::string(64, 'b') + ".log", u));
  render(u, store.find(u), nullptr, o, r);
  EXPECT_FALSE(r.enriched);
  EXPECT_EQ(r.kube_json, "{\"container_name\":\"c\",\"namespace_name\":\"ns\",\"pod_name\":\"gone-1\"}");
  EXPECT_EQ(r.docker_json, "{\"container_id\":\"" + std::string(64, 'b') + "\"}");
}

TEST(K8sRender, SkipsAnnotationsDeDot) {
  Pod p;
  p.name = "p";
  p.ns = "n";
  p.uid = "u";
  p.labels = {{"app.kubernetes.io/name", "x"}};
  p.annotations = {{"custom.a", "1"}, {"other", "2"}, {"two", "3"}};
  ContainerStatus c;
  c.name = "c";
  c.image = "img";
  p.containers.push_back(c);
  TagInfo t{"n", "p", "c", "", ""};
  RenderOptions o;
  o.annotation_match.push_back(std::make_shared<Regex>("^custom.+"));
  o.annotation_match.push_back(std::make_shared<Regex>("two"));
  o.de_dot = true;
  o.de_slash = true;
  Rendered r;
  render(t, &p, nullptr, o, r);
  EXPECT_EQ(r.kube_json,
            "{\"container_name\":\"c\",\"namespace_name\":\"n\",\"pod_name\":\"p\",\"container_image\":\"img\","
            "\"pod_id\":\"u\",\"labels\":{\"app_kubernetes_io__name\":\"x\"},"
            "\"annotations\":{\"custom_a\":\"1\",\"two\":\"3\"}}");
  EXPECT_FALSE(r.has_docker);
  RenderOptions s;
  s.skip_labels = s.skip_container_metadata = s.skip_master_url = true;
  s.master_url = "x";
  render(t, &p, nullptr, s, r);
  EXPECT_EQ(r.kube_json, "{\"container_name\":\"c\",\"namespace_name\":\"n\",\"pod_name\":\"p\",\"pod_id\":\"u\"}");
}

TEST(K8sStore, GonePodsKeepMetadataUntilTtl) {
  PodStore s;
  s.gone_ttl = 100;
  Pod a;
  a.name = "a";
  a.ns = "n";
  a.uid = "1";
  s.update({a}, 10);
  s.update({}, 20);
  EXPECT_NE(s.find_name("n", "a"), nullptr);
  s.update({}, 200);
  EXPECT_EQ(s.find_name("n", "a"), nullptr);
}

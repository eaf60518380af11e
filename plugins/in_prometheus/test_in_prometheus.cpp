#include <gtest/gtest.h>

#include "core/registry.h"
#include "prometheus_http.h"

using namespace sluice;
using namespace sluice::prometheus;

TEST(PrometheusRender, TypeOncePerFamilyAndGroupsInterleavedFamilies) {
  Metrics m;
  bump(m.counter("sluice_input_records_total{plugin=\"in_tail_0\"}"), 3);
  bump(m.counter("sluice_input_records_total{plugin=\"in_tail_1\"}"), 4);
  bump(m.counter("sluice_input_records_total_x{plugin=\"a\"}"), 1);  // sorts between the two above? no: grouped anyway
  bump(m.counter("sluice_queue_bytes"), 7);
  std::string text = render(m.snapshot());
  EXPECT_EQ(text,
            "# TYPE sluice_input_records_total counter\n"
            "sluice_input_records_total{plugin=\"in_tail_0\"} 3\n"
            "sluice_input_records_total{plugin=\"in_tail_1\"} 4\n"
            "# TYPE sluice_input_records_total_x gauge\n"
            "sluice_input_records_total_x{plugin=\"a\"} 1\n"
            "# TYPE sluice_queue_bytes gauge\n"
            "sluice_queue_bytes 7\n");
}

TEST(PrometheusRender, FamilyWithAndWithoutLabelsInterleaved) {
  std::vector<std::pair<std::string, uint64_t>> snap = {
      {"a_total", 1}, {"a_total_b_total", 2}, {"a_total{x=\"1\"}", 3}};
  EXPECT_EQ(render(snap),
            "# TYPE a_total counter\na_total 1\na_total{x=\"1\"} 3\n"
            "# TYPE a_total_b_total counter\na_total_b_total 2\n");
}

TEST(PrometheusRender, SkipsInvalidNamesAndLabels) {
  std::vector<std::pair<std::string, uint64_t>> snap = {
      {"9bad_total", 1}, {"bad-name", 1}, {"ok_total{x=\"a\nb\"}", 1}, {"ok_total{x=\"1\"", 1},
      {"", 1}, {"ok_total{x=\"2\"}", 18446744073709551615ull}};
  EXPECT_EQ(render(snap), "# TYPE ok_total counter\nok_total{x=\"2\"} 18446744073709551615\n");
  EXPECT_EQ(render({}), "");
}

TEST(PrometheusHttp, ParsesRequestHead) {
  Request r;
  size_t len = 0;
  std::string buf = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\nBODY";
  ASSERT_EQ(parse_request(buf, 8192, r, len), ParseStatus::Ok);
  EXPECT_EQ(len, buf.size() - 4);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(r.target, "/metrics?x=1");
  ASSERT_NE(r.header("accept-encoding"), nullptr);
  EXPECT_EQ(*r.header("accept-encoding"), "gzip");
  // LF-only line ends.
  ASSERT_EQ(parse_request("GET /healthz HTTP/1.0\n\n", 8192, r, len), ParseStatus::Ok);
  EXPECT_EQ(r.path, "/healthz");
}

TEST(PrometheusHttp, IncompleteGarbageAndOversized) {
  Request r;
  size_t len = 0;
  EXPECT_EQ(parse_request("", 8192, r, len), ParseStatus::NeedMore);
  EXPECT_EQ(parse_request("GE", 8192, r, len), ParseStatus::NeedMore);
  EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: a\r\n", 8192, r, len), ParseStatus::NeedMore);
  EXPECT_EQ(parse_request(std::string("\x16\x03\x01\x02", 4), 8192, r, len), ParseStatus::Bad);  // TLS
  EXPECT_EQ(parse_request("get / HTTP/1.1\r\n\r\n", 8192, r, len), ParseStatus::Bad);
  EXPECT_EQ(parse_request("GET / HTTP/2.0\r\n\r\n", 8192, r, len), ParseStatus::Bad);
  EXPECT_EQ(parse_request("GET /\r\n", 8192, r, len), ParseStatus::Bad);  // fails before the head ends
  EXPECT_EQ(parse_request("GET nopath HTTP/1.1\r\n\r\n", 8192, r, len), ParseStatus::Bad);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nno colon\r\n\r\n", 8192, r, len), ParseStatus::Bad);
  EXPECT_EQ(parse_request(std::string("GET /a\0b HTTP/1.1\r\n\r\n", 22), 8192, r, len), ParseStatus::Bad);
  EXPECT_EQ(parse_request("\r\n\r\n", 8192, r, len), ParseStatus::Bad);
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(parse_request(big, 8192, r, len), ParseStatus::TooLarge);
  std::string big_line = "GET /" + std::string(9000, 'a');
  EXPECT_EQ(parse_request(big_line, 8192, r, len), ParseStatus::TooLarge);
  EXPECT_EQ(parse_request(std::string(9000, 'A'), 8192, r, len), ParseStatus::Bad);
}

TEST(PrometheusHttp, Routes) {
  Routes routes;
  Request r;
  size_t len = 0;
  auto get = [&](const std::string& head) {
    EXPECT_EQ(parse_request(head, 8192, r, len), ParseStatus::Ok) << head;
    return route(r, routes, [] { return std::string("m_total 1\n"); });
  };
  auto resp = get("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "m_total 1\n");
  EXPECT_EQ(get("GET /aggregated_metrics HTTP/1.1\r\n\r\n").status, 200);
  resp = get("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "ok\n");
  EXPECT_EQ(get("GET /nope HTTP/1.1\r\n\r\n").status, 404);
  resp = get("POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(resp.status, 405);
  std::string wire = serialize(resp, false);
  EXPECT_NE(wire.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Allow: GET, HEAD\r\n"), std::string::npos);
  resp = get("HEAD /metrics HTTP/1.1\r\n\r\n");
  wire = serialize(resp, true);
  EXPECT_NE(wire.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");
  // gzip only when configured and accepted.
  routes.gzip = true;
  resp = get("GET /metrics HTTP/1.1\r\nAccept-Encoding: deflate, gzip\r\n\r\n");
  ASSERT_GE(resp.body.size(), 2u);
  EXPECT_EQ(uint8_t(resp.body[0]), 0x1f);
  EXPECT_EQ(uint8_t(resp.body[1]), 0x8b);
  EXPECT_EQ(get("GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n").body, "m_total 1\n");
  EXPECT_EQ(get("GET /metrics HTTP/1.1\r\n\r\n").body, "m_total 1\n");
}

namespace {
ConfigSection source(const std::string& type, std::vector<ConfigParam> params) {
  ConfigSection s{"source", "", {"t.conf", 1}, {{"@type", type, {"t.conf", 2}}}, {}};
  for (auto& p : params) s.params.push_back(p);
  return s;
}
}  // namespace

TEST(PrometheusConfig, SpecsValidateDaemonsetParams) {
  Registry reg;
  register_all_plugins(reg);
  auto* spec = reg.spec("input", "prometheus");
  ASSERT_NE(spec, nullptr);
  auto s = source("prometheus", {{"bind", "0.0.0.0", {"t.conf", 3}},
                                 {"port", "24231", {"t.conf", 4}},
                                 {"metrics_path", "/metrics", {"t.conf", 5}},
                                 {"content_encoding", "gzip", {"t.conf", 6}}});
  EXPECT_TRUE(validate_params(s, *spec).empty());
  s.params.push_back({"nonsense", "1", {"t.conf", 7}});
  EXPECT_FALSE(validate_params(s, *spec).empty());
  for (const char* t : {"prometheus_output_monitor", "prometheus_monitor", "prometheus_tail_monitor"}) {
    auto* ms = reg.spec("input", t);
    ASSERT_NE(ms, nullptr) << t;
    auto m = source(t, {{"interval", "10", {"t.conf", 3}}});
    m.children.push_back({"labels", "", {"t.conf", 4}, {{"host", "x", {"t.conf", 5}}}, {}});
    EXPECT_TRUE(validate_params(m, *ms).empty()) << t;
  }
}

TEST(PrometheusConfig, DryRunBuildsAndTlsIsRefused) {
  Registry reg;
  register_all_plugins(reg);
  auto* spec = reg.spec("input", "prometheus");
  PluginContext ctx;
  ctx.registry = &reg;
  ctx.dry_run = true;
  auto s = source("prometheus", {{"port", "0", {"t.conf", 3}}});
  ctx.section = &s;
  Params ok(s, *spec);
  EXPECT_NE((*reg.input("prometheus"))(ctx, ok), nullptr);

  auto tls = s;
  tls.children.push_back({"ssl", "", {"t.conf", 9}, {{"enable", "true", {"t.conf", 10}}}, {}});
  Params p1(tls, *spec);
  EXPECT_THROW((*reg.input("prometheus"))(ctx, p1), ConfigException);
  auto tr = s;
  tr.children.push_back({"transport", "tls", {"t.conf", 9}, {}, {}});
  Params p2(tr, *spec);
  EXPECT_THROW((*reg.input("prometheus"))(ctx, p2), ConfigException);
  auto badpath = source("prometheus", {{"metrics_path", "metrics", {"t.conf", 3}}});
  Params p3(badpath, *spec);
  EXPECT_THROW((*reg.input("prometheus"))(ctx, p3), ConfigException);
}

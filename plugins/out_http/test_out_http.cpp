// out_http's logic that a server sees: placeholders, request bodies and headers, and what each
// answer does to a chunk.
#include <gtest/gtest.h>
#include <zlib.h>

#include "http_request.h"
#include "http_settings.h"
#include "support/plugin_config.h"

namespace sluice::http_out {
namespace {

using testing::PluginConfig;

OutputConfig configure(PluginConfig& pc, const std::string& body) {
  PluginContext ctx = pc.parse("match", "output", "http", body, "out_http_0");
  Params p = pc.params();
  return parse_config(ctx, p);
}

std::string configure_error(const std::string& body) {
  PluginConfig pc;
  return pc.error_of([&] { configure(pc, body); });
}

std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 16 + 15);
  std::string out(1 << 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(OutHttpBody, ContentTypeFollowsTheFormat) {
  using T = LineFormat::Type;
  EXPECT_EQ(default_content_type(T::Json, false), "application/x-ndjson");
  EXPECT_EQ(default_content_type(T::Json, true), "application/json");
  EXPECT_EQ(default_content_type(T::Ltsv, false), "text/tab-separated-values");
  EXPECT_EQ(default_content_type(T::SingleValue, false), "text/plain");
  EXPECT_EQ(default_content_type(T::Hash, false), "text/plain");
  EXPECT_EQ(default_content_type(T::OutFile, false), "text/plain");
}

TEST(OutHttpBody, JsonArrayFramingIsRubys) {
  std::string scratch;
  // Each record is the json formatter's line plus ',' (format_json_array); the body chops the last.
  EXPECT_EQ(request_body("{\"a\":1}\n,{\"b\":2}\n,", true, scratch), "[{\"a\":1}\n,{\"b\":2}\n]");
  EXPECT_EQ(request_body("", true, scratch), "[]");
  const std::string lines = "{\"a\":1}\n{\"b\":2}\n";
  EXPECT_EQ(request_body(lines, false, scratch).data(), lines.data());  // no copy
}

TEST(OutHttpPlaceholders, KeyValuesRoundTripAnyBytes) {
  std::string v;
  append_key_value(v, "a:b");
  append_key_value(v, "");
  append_key_value(v, std::string("x\0y\n", 4));
  auto values = key_values(v);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], "a:b");
  EXPECT_EQ(values[1], "");
  EXPECT_EQ(values[2], std::string_view("x\0y\n", 4));
  EXPECT_EQ(key_values("9:short").size(), 0u);  // malformed: no value read past the end
  EXPECT_EQ(key_values("x:1").size(), 0u);
}

TEST(OutHttpPlaceholders, FluentdOrderTimeTagChunkIdRecordKeys) {
  buffer::Config bc;
  bc.key_tag = bc.key_time = true;
  bc.timekey_use_utc = true;
  bc.record_keys = {"$.kubernetes.ns", "host"};
  ChunkKeys keys(bc);
  buffer::Chunk c;
  c.id = 0x2a;
  c.tag = "kube.var.log.app";
  c.timekey = 1714564800;  // 2024-05-01 12:00:00 UTC
  append_key_value(c.variant, "prod");
  append_key_value(c.variant, "node-1");
  EXPECT_EQ(expand_placeholders("http://h/${tag}/${tag[1]}/${tag[-1]}/%Y%m%d-%H/${$.kubernetes.ns}/${host}/"
                                "${chunk_id}/${chunk_id}",
                                keys, c),
            // Only the first ${chunk_id} is the id (String#sub); with record keys the gsub of chunk
            // keys then empties the second, as an unknown key.
            "http://h/kube.var.log.app/var/app/20240501-12/prod/node-1/000000000000002a/");
  // A tag part the tag does not have is empty, as Ruby's gsub with a hash makes it.
  EXPECT_EQ(expand_placeholders("/${tag[7]}/", keys, c), "//");
  // Without a time key the text is no strftime format: percent-escapes stay.
  ChunkKeys tag_only(buffer::Config{});
  tag_only.tag = true;
  EXPECT_EQ(expand_placeholders("/a%20b/${tag}", tag_only, c), "/a%20b/kube.var.log.app");
}

TEST(OutHttpPlaceholders, UnfilledPlaceholdersAreNamed) {
  buffer::Config bc;
  bc.key_tag = true;
  bc.record_keys = {"$.a.b"};
  ChunkKeys keys(bc);
  EXPECT_EQ(unfilled_placeholder("http://h/${tag}/${tag[-2]}/${$.a.b}/${chunk_id}", keys), "");
  EXPECT_EQ(unfilled_placeholder("http://h/${tag}/${host}", keys), "${host}");
  EXPECT_EQ(unfilled_placeholder("http://h/${tag}", ChunkKeys(buffer::Config{})), "${tag}");
}

TEST(OutHttpRequest, HeadersAreSetInRubysOrderAndSpelling) {
  EXPECT_EQ(ruby_header_name("x-api-KEY"), "X-Api-Key");
  EXPECT_EQ(ruby_header_name("test_header"), "Test_header");
  PluginConfig pc;
  auto c = configure(pc,
                     "  endpoint http://127.0.0.1:9/p/${tag}?q=1\n"
                     "  headers {\"Content-Type\":\"text/x\",\"x-a\":\"1\",\"Authorization\":\"mine\"}\n"
                     "  headers_from_placeholders {\"X-A\":\"${tag}\"}\n"
                     "  compress gzip\n"
                     "  <auth>\n    username u\n    password p\n  </auth>\n"
                     "  <buffer tag>\n  </buffer>\n");
  buffer::Chunk chunk;
  chunk.tag = "app.web";
  chunk.payload = "{\"a\":1}\n";
  http::HttpRequest req;
  bool unrecoverable = true;
  ASSERT_EQ(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable), "");
  EXPECT_FALSE(unrecoverable);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:9/p/app.web?q=1");
  http::HeaderList expected = {{"Content-Type", "application/x-ndjson"},
                               {"X-A", "app.web"},
                               {"Authorization", "Basic dTpw"},
                               {"Content-Encoding", "gzip"}};
  EXPECT_EQ(req.headers, expected);
  EXPECT_EQ(gunzip(req.body), chunk.payload);
  EXPECT_TRUE(req.body_view.empty());
  EXPECT_EQ(req.connect_timeout_ms, 60000);
}

TEST(OutHttpRequest, PlainBodyIsTheChunkItself) {
  PluginConfig pc;
  auto c = configure(pc, "  endpoint http://127.0.0.1:9/p\n  http_method put\n");
  buffer::Chunk chunk;
  chunk.payload = "a\nb\n";
  http::HttpRequest req;
  bool unrecoverable = false;
  ASSERT_EQ(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable), "");
  EXPECT_EQ(req.method, "PUT");
  EXPECT_EQ(req.body_view.data(), chunk.payload.data());
}

TEST(OutHttpRequest, DynamicHostsMustBeAllowed) {
  PluginConfig pc;
  auto c = configure(pc, "  endpoint http://${tag}:9/p\n  allowed_hosts [\"a.example\"]\n  <buffer tag>\n  </buffer>\n");
  buffer::Chunk chunk;
  http::HttpRequest req;
  bool unrecoverable = false;
  chunk.tag = "a.example";
  EXPECT_EQ(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable), "");
  chunk.tag = "b.example";
  EXPECT_EQ(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable),
            "Not allowed host: \"b.example\"");
  EXPECT_TRUE(unrecoverable);
  // A value that breaks the URL: Fluentd's URI::InvalidURIError is retried, not given up.
  chunk.tag = "a b";
  EXPECT_NE(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable), "");
  EXPECT_FALSE(unrecoverable);
}

TEST(OutHttpRequest, HeaderValuesWithLineBreaksAreUnrecoverable) {
  PluginConfig pc;
  auto c = configure(pc, "  endpoint http://127.0.0.1:9/p\n  headers_from_placeholders {\"X-T\":\"${tag}\"}\n"
                         "  <buffer tag>\n  </buffer>\n");
  buffer::Chunk chunk;
  chunk.tag = "a\r\nX-Evil: 1";
  http::HttpRequest req;
  bool unrecoverable = false;
  EXPECT_NE(build_request(c.settings, ChunkKeys(c.buffer), chunk, req, unrecoverable), "");
  EXPECT_TRUE(unrecoverable);
}

TEST(OutHttpRequest, LoggableUrlHasNoCredentialsNorQuery) {
  EXPECT_EQ(loggable_url("https://u:p@h:1/a/b?token=x#f"), "https://h:1/a/b");
  EXPECT_EQ(loggable_url("http://h/a@b"), "http://h/a@b");
}

TEST(OutHttpResponse, WhatEachAnswerDoes) {
  PluginConfig pc;
  auto c = configure(pc, "  endpoint http://127.0.0.1:9/p\n  retryable_response_codes [503, 429]\n");
  std::string logged;
  http::HttpResponse r;
  r.status = 204;
  EXPECT_EQ(classify_response(c.settings, r, logged).status, buffer::SendStatus::Success);
  r.status = 429;
  r.reason = "Too Many Requests";
  r.body = "\n slow down";
  auto res = classify_response(c.settings, r, logged);
  EXPECT_EQ(res.status, buffer::SendStatus::Retry);
  EXPECT_EQ(res.reason, "429 Too Many Requests \"slow down\"");
  r.status = 302;  // not Net::HTTPSuccess either
  EXPECT_EQ(classify_response(c.settings, r, logged).status, buffer::SendStatus::Unrecoverable);
  c.settings.error_response_as_unrecoverable = false;
  r.status = 400;
  r.reason = "Bad Request";
  EXPECT_EQ(classify_response(c.settings, r, logged).status, buffer::SendStatus::Success);
  EXPECT_EQ(logged, "400 Bad Request \"slow down\"");
  http::HttpResponse failed;
  failed.error = "Connection refused";
  EXPECT_EQ(classify_response(c.settings, failed, logged).status, buffer::SendStatus::Retry);
}

TEST(OutHttpConfig, DefaultsAndRefusals) {
  PluginConfig pc;
  auto c = configure(pc, "  endpoint https://127.0.0.1:9/p\n");
  EXPECT_EQ(c.settings.retryable_response_codes, std::vector<long>{503});
  EXPECT_TRUE(c.settings.error_response_as_unrecoverable);
  EXPECT_EQ(c.settings.tls.min_version, http::TlsVersion::V1_2);
  EXPECT_EQ(c.settings.tls.max_version, http::TlsVersion::V1_2);
  EXPECT_TRUE(c.settings.tls.verify_peer);
  EXPECT_EQ(c.settings.content_type, "application/x-ndjson");
  EXPECT_EQ(c.buffer.key_tag, false);  // out_http has no default chunk keys

  EXPECT_NE(configure_error("  endpoint http://u:pw@127.0.0.1/p\n").find("t.conf:3: credentials in the endpoint"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint http://h/p\n  retryable_response_codes 503, x\n").find("'x' is not an integer"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint https://h/p\n  tls_ca_cert_path /nonexistent/ca.pem\n")
                .find("tls_ca_cert_path is wrong: /nonexistent/ca.pem"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint https://h/p\n  tls_ciphers NO-SUCH-CIPHER\n").find("tls_ciphers"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint http://h/p\n  <buffer $[\"a\"]>\n  </buffer>\n").find("bracket notation"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint http://h/${key}\n  <buffer tag>\n  </buffer>\n").find("${key}"),
            std::string::npos);
  EXPECT_NE(configure_error("  endpoint http://h/p\n  <format>\n    @type msgpack\n  </format>\n")
                .find("unsupported format type 'msgpack'"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::http_out

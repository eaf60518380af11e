// HttpClient against a real local server (tests/unit/http/http_test_server.py), plain and TLS
// with a CA made by openssl at test time.
#include "http/http_client.h"
#include "http/plain_post.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "support/test_support.h"

extern char** environ;

using namespace sluice;
using namespace sluice::http;

namespace {

const std::string kServer = std::string(SLUICE_SOURCE_DIR) + "/tests/unit/http/http_test_server.py";
const std::string kMakeCa = std::string(SLUICE_SOURCE_DIR) + "/tests/servers/make_test_ca.sh";

// A server process, killed by its PID.
class TestServer {
 public:
  explicit TestServer(const sluice::testing::TempDir& dir, bool tls) {
    std::string port_file = dir.file(tls ? "port.tls" : "port");
    std::vector<std::string> args = {"python3", kServer, port_file};
    if (tls) {
      std::string cmd = kMakeCa + " " + dir.path() + "/pki";
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make_test_ca failed");
      args.push_back(dir.path() + "/pki/server.crt");
      args.push_back(dir.path() + "/pki/server.key");
      ca_file = dir.path() + "/pki/ca.crt";
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("spawn failed");
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    port = std::stoi(sluice::testing::read_file(port_file));
  }
  ~TestServer() {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
  std::string url(const std::string& path, bool tls = false) const {
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + path;
  }
  int port = 0;
  std::string ca_file;

 private:
  pid_t pid_ = 0;
};

class HttpClientTest : public ::testing::Test {
 protected:
  // A response may complete in the loop's timer phase (libcurl's timer, the plain writer's
  // deferred callbacks), after which UV_RUN_ONCE still polls for I/O: the tick bounds that wait.
  void SetUp() override {
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &tick_);
    uv_timer_start(&tick_, [](uv_timer_t*) {}, 5, 5);
  }
  void TearDown() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    // Every handle must be closed: the loop has to end by itself.
    EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Runs the loop until `n` responses arrived.
  std::vector<HttpResponse> fetch(HttpClient& client, std::vector<HttpRequest> reqs) {
    std::vector<HttpResponse> out(reqs.size());
    size_t left = reqs.size();
    for (size_t i = 0; i < reqs.size(); ++i)
      client.send(std::move(reqs[i]), [&, i](HttpResponse r) {
        out[i] = std::move(r);
        --left;
      });
    while (left > 0) uv_run(&loop_, UV_RUN_ONCE);
    return out;
  }
  HttpResponse get(HttpClient& client, HttpRequest req) { return fetch(client, {std::move(req)})[0]; }
  // A port nobody listens on: bind, read the port, close.
  int unused_port() {
    uv_tcp_t tcp;
    uv_tcp_init(&loop_, &tcp);
    sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&tcp, reinterpret_cast<sockaddr*>(&addr), 0);
    sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&got), &len);
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ntohs(got.sin_port);
  }

  uv_loop_t loop_;
  uv_timer_t tick_;
  sluice::testing::TempDir dir_;
};

HttpRequest req(std::string url) {
  HttpRequest r;
  r.url = std::move(url);
  return r;
}

// POSTs to http:// go over the plain HTTP/1.1 writer (the body is not copied); the same
// behaviour is expected as from libcurl.
HttpRequest post(std::string url, std::string body = "{\"index\":{}}\n{\"a\":1}\n") {
  HttpRequest r = req(std::move(url));
  r.method = "POST";
  r.body = std::move(body);
  return r;
}

}  // namespace

// The same for GET (libcurl) and POST (the plain writer).
const std::vector<HttpRequest (*)(std::string)> kBothWays = {
    [](std::string url) { return req(std::move(url)); }, [](std::string url) { return post(std::move(url)); }};

TEST_F(HttpClientTest, GetPostHeadersStatus) {
  TestServer server(dir_, false);
  HttpClient client(&loop_);
  auto r = get(client, req(server.url("/echo?x=1")));
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"method\": \"GET\""), std::string::npos) << r.body;
  ASSERT_NE(r.header("x-test"), nullptr);
  EXPECT_EQ(*r.header("X-TEST"), "yes");

  HttpRequest post = req(server.url("/echo"));
  post.method = "POST";
  post.body = "{\"index\":{}}\n{\"a\":1}\n";
  post.headers = {{"Content-Type", "application/x-ndjson"}};
  r = get(client, post);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("application/x-ndjson"), std::string::npos);
  EXPECT_NE(r.body.find("{\\\"index\\\":{}}\\n{\\\"a\\\":1}\\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("expect"), std::string::npos) << "no Expect: 100-continue";

  post.gzip_body = true;
  r = get(client, post);
  EXPECT_NE(r.body.find("\"content-encoding\": \"gzip\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\\\"a\\\":1}"), std::string::npos) << r.body;

  for (int status : {401, 403, 500, 503}) {
    r = get(client, req(server.url("/status/" + std::to_string(status))));
    EXPECT_EQ(r.status, status);
    EXPECT_TRUE(r.error.empty());
    EXPECT_FALSE(r.ok());
  }
  client.close();
}

TEST_F(HttpClientTest, KeepAliveReusesConnection) {
  TestServer server(dir_, false);
  for (auto make : kBothWays) {
    HttpClient client(&loop_);
    auto a = get(client, make(server.url("/conn")));
    auto b = get(client, make(server.url("/conn")));
    ASSERT_TRUE(a.ok() && b.ok()) << a.error << b.error;
    EXPECT_EQ(a.body, b.body) << "same client port: the connection was reused";
    client.close();
  }
}

TEST_F(HttpClientTest, ManyConcurrentBounded) {
  TestServer server(dir_, false);
  HttpClient::Options opts;
  opts.max_concurrent = 3;
  HttpClient client(&loop_, opts);
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < 20; ++i) reqs.push_back(req(server.url("/slow/20")));
  // POSTs go over the plain writer, which queues beyond max_concurrent too.
  for (int i = 0; i < 20; ++i) reqs.push_back(post(server.url("/slow/20")));
  auto rs = fetch(client, reqs);
  for (auto& r : rs) EXPECT_EQ(r.status, 200) << r.error;
  client.close();
}

TEST_F(HttpClientTest, BearerAndBasicAuth) {
  TestServer server(dir_, false);
  HttpClient client(&loop_);
  EXPECT_EQ(get(client, req(server.url("/bearer"))).status, 401);
  HttpRequest r = req(server.url("/bearer"));
  r.bearer_token = "secret-token";
  EXPECT_EQ(get(client, r).status, 200);
  r = req(server.url("/basic"));
  r.user = "user";
  r.password = "pass";
  EXPECT_EQ(get(client, r).status, 200);
  client.close();
}

TEST_F(HttpClientTest, Timeout) {
  TestServer server(dir_, false);
  for (auto make : kBothWays) {
    HttpClient client(&loop_);
    HttpRequest r = make(server.url("/slow/3000"));
    r.timeout_ms = 200;
    r.bearer_token = "never-in-errors";
    auto t0 = std::chrono::steady_clock::now();
    auto resp = get(client, r);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(resp.timed_out);
    EXPECT_EQ(resp.status, 0);
    EXPECT_NE(resp.error.find("timed out"), std::string::npos) << resp.error;
    EXPECT_EQ(resp.error.find("never-in-errors"), std::string::npos);
    EXPECT_LT(ms, 2000);
    client.close();
  }
}

TEST_F(HttpClientTest, ConnectionRefused) {
  const int port = unused_port();
  for (auto make : kBothWays) {
    HttpClient client(&loop_);
    auto r = get(client, make("http://127.0.0.1:" + std::to_string(port) + "/_bulk"));
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("Failed to connect to 127.0.0.1 port " + std::to_string(port)), std::string::npos)
        << r.error;
    auto bad = get(client, make("notaprotocol://x/"));
    EXPECT_FALSE(bad.error.empty());
    client.close();
  }
}

TEST_F(HttpClientTest, TlsWithTestCa) {
  TestServer server(dir_, true);
  HttpClient client(&loop_);
  // Without our CA the server is not trusted.
  auto r = get(client, req(server.url("/echo", true)));
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  // With it, it is.
  HttpRequest ok = req(server.url("/bearer", true));
  ok.tls.ca_file = server.ca_file;
  ok.bearer_token = "secret-token";
  r = get(client, ok);
  EXPECT_EQ(r.status, 200) << r.error;
  // verify_peer false accepts it without the CA.
  HttpRequest insecure = req(server.url("/echo", true));
  insecure.tls.verify_peer = false;
  insecure.tls.verify_host = false;
  EXPECT_EQ(get(client, insecure).status, 200);
  // localhost is in the certificate; a wrong host name fails verification.
  HttpRequest byname = req("https://localhost:" + std::to_string(server.port) + "/echo");
  byname.tls.ca_file = server.ca_file;
  EXPECT_EQ(get(client, byname).status, 200);
  client.close();
}

TEST_F(HttpClientTest, ResponseLimitCancelAndClose) {
  TestServer server(dir_, false);
  for (auto make : kBothWays) {
    HttpClient client(&loop_);
    HttpRequest big = make(server.url("/big/100000"));
    big.max_response_bytes = 1000;
    auto r = get(client, big);
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("larger"), std::string::npos) << r.error;

    bool called = false;
    std::string err;
    uint64_t id = client.send(make(server.url("/slow/2000")), [&](HttpResponse x) {
      called = true;
      err = x.error;
    });
    EXPECT_FALSE(called) << "never inside send()";
    uv_run(&loop_, UV_RUN_NOWAIT);
    client.cancel(id);
    EXPECT_FALSE(called) << "never inside cancel()";
    while (!called) uv_run(&loop_, UV_RUN_ONCE);
    EXPECT_EQ(err, "cancelled");

    // close() with a request in flight: no callback, and the loop can end (checked in TearDown).
    bool late = false;
    client.send(make(server.url("/slow/2000")), [&](HttpResponse) { late = true; });
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_EQ(client.in_flight(), 1u);
    client.close();
    EXPECT_EQ(client.send(make(server.url("/echo")), [&](HttpResponse) { late = true; }), 0u);
    uv_timer_stop(&tick_);  // the loop ends once the closed client's handles are gone
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_timer_again(&tick_);
    EXPECT_FALSE(late);
  }
}

TEST_F(HttpClientTest, PostBodyViewHeadersAndAuth) {
  TestServer server(dir_, false);
  HttpClient client(&loop_);
  const std::string chunk = "{\"index\":{}}\n{\"log\":\"" + std::string(300000, 'x') + "\"}\n";
  HttpRequest r = post(server.url("/echo?refresh=false"), "");
  r.body_view = chunk;
  r.headers = {{"Content-Type", "application/x-ndjson"}, {"X-Custom", "1"}};
  r.user = "user";
  r.password = "pass";
  auto resp = get(client, r);
  ASSERT_EQ(resp.status, 200) << resp.error;
  EXPECT_NE(resp.body.find("\"path\": \"/echo?refresh=false\""), std::string::npos);
  EXPECT_NE(resp.body.find("\"content-type\": \"application/x-ndjson\""), std::string::npos);
  EXPECT_NE(resp.body.find("\"x-custom\": \"1\""), std::string::npos);
  EXPECT_NE(resp.body.find("\"content-length\": \"" + std::to_string(chunk.size()) + "\""), std::string::npos);
  EXPECT_NE(resp.body.find("\"host\": \"127.0.0.1:" + std::to_string(server.port) + "\""), std::string::npos);
  EXPECT_NE(resp.body.find(std::string(300000, 'x')), std::string::npos) << "the whole body arrived";
  // A host name (resolved; localhost may be ::1 first, where nobody listens: the next address).
  auto named = get(client, post("http://localhost:" + std::to_string(server.port) + "/echo"));
  EXPECT_EQ(named.status, 200) << named.error;
  EXPECT_NE(named.body.find("\"host\": \"localhost:" + std::to_string(server.port) + "\""), std::string::npos);
  EXPECT_EQ(resp.body.find("expect"), std::string::npos);
  ASSERT_NE(resp.header("x-test"), nullptr);

  EXPECT_EQ(get(client, post(server.url("/basic"))).status, 401);
  HttpRequest basic = post(server.url("/basic"));
  basic.user = "user";
  basic.password = "pass";
  EXPECT_EQ(get(client, basic).status, 200);
  HttpRequest bearer = post(server.url("/bearer"));
  bearer.bearer_token = "secret-token";
  EXPECT_EQ(get(client, bearer).status, 200);
  for (int status : {429, 500, 503}) {
    auto s = get(client, post(server.url("/status/" + std::to_string(status))));
    EXPECT_EQ(s.status, status);
    EXPECT_TRUE(s.error.empty()) << s.error;
    EXPECT_EQ(s.body, "{\"status\":" + std::to_string(status) + "}");
  }
  client.close();
}

// A kept-alive connection the server closed is not used again, whether its end arrived before
// the next request (seen when the connection is taken from the pool) or as the request reached
// the server (nothing came back: the request goes out once more on a new connection).
TEST_F(HttpClientTest, PostDoesNotLoseARequestToAKeptAliveConnectionTheServerClosed) {
  TestServer server(dir_, false);
  HttpClient client(&loop_);
  for (const char* first : {"/conn-then-close", "/conn-then-drop-next"}) {
    SCOPED_TRACE(first);
    auto a = get(client, post(server.url(first)));
    if (std::string(first) == "/conn-then-close")  // its end has arrived by the next request
      for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_ONCE);
    auto b = get(client, post(server.url("/conn")));
    EXPECT_EQ(a.status, 200) << a.error;
    EXPECT_EQ(b.status, 200) << b.error;
    EXPECT_NE(a.body, b.body) << "a new connection";
  }
  client.close();
}

TEST_F(HttpClientTest, PostChunkedGarbageAndDroppedReplies) {
  TestServer server(dir_, false);
  HttpClient client(&loop_);
  auto chunked = get(client, post(server.url("/chunked")));
  EXPECT_EQ(chunked.status, 200) << chunked.error;
  EXPECT_EQ(chunked.body, "{\"took\":1,\"errors\":false}");
  auto garbage = get(client, post(server.url("/garbage")));
  EXPECT_EQ(garbage.status, 0);
  EXPECT_NE(garbage.error.find("malformed status line"), std::string::npos) << garbage.error;
  auto dropped = get(client, post(server.url("/drop")));
  EXPECT_EQ(dropped.status, 0);
  EXPECT_NE(dropped.error.find("Empty reply"), std::string::npos) << dropped.error;
  // The client is still usable.
  EXPECT_EQ(get(client, post(server.url("/echo"))).status, 200);
  client.close();
}

TEST(HttpPlainTarget, WhatGoesAroundLibcurl) {
  PlainTarget t;
  HttpRequest r = post("http://127.0.0.1:9200/_bulk?pipeline=p");
  ASSERT_TRUE(plain_target(r, t));
  EXPECT_EQ(t.host, "127.0.0.1");
  EXPECT_EQ(t.port, 9200);
  EXPECT_EQ(t.host_header, "127.0.0.1:9200");
  EXPECT_EQ(t.path, "/_bulk?pipeline=p");
  ASSERT_TRUE(plain_target(post("http://[::1]:9200"), t));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.host_header, "[::1]:9200");
  EXPECT_EQ(t.path, "/");
  ASSERT_TRUE(plain_target(post("http://es.example/x"), t));
  EXPECT_EQ(t.port, 80);
  EXPECT_EQ(t.host_header, "es.example");
  // Left to libcurl: TLS, other methods, proxies, credentials in the URL, compressed responses,
  // header fields that would break the head.
  EXPECT_FALSE(plain_target(post("https://127.0.0.1:9200/_bulk"), t));
  HttpRequest get_req = req("http://127.0.0.1:9200/");
  EXPECT_FALSE(plain_target(get_req, t));
  HttpRequest proxied = post("http://127.0.0.1:9200/_bulk");
  proxied.proxy = "http://proxy:3128";
  EXPECT_FALSE(plain_target(proxied, t));
  EXPECT_FALSE(plain_target(post("http://u:p@127.0.0.1:9200/_bulk"), t));
  HttpRequest compressed = post("http://127.0.0.1:9200/_bulk");
  compressed.accept_compressed = true;
  EXPECT_FALSE(plain_target(compressed, t));
  HttpRequest injected = post("http://127.0.0.1:9200/_bulk");
  injected.headers = {{"X-A", "1\r\nX-B: 2"}};
  EXPECT_FALSE(plain_target(injected, t));
  setenv("http_proxy", "http://proxy:3128", 1);
  EXPECT_FALSE(plain_target(post("http://127.0.0.1:9200/_bulk"), t));
  unsetenv("http_proxy");
}

TEST(HttpGzip, RoundTripHeader) {
  std::string z = gzip_compress("hello hello hello");
  ASSERT_GE(z.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
}

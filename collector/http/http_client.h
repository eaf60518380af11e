// An asynchronous HTTP(S) client on the libuv loop: libcurl's multi interface driven by the loop's
// sockets (curl_multi_socket_action with one uv_poll_t per socket and one uv_timer_t), so nothing
// blocks the loop thread. Connections are kept alive and reused (a bounded pool shared by all
// requests of one client); requests beyond `max_concurrent` wait in a queue. POSTs to plain
// http:// without a proxy (Elasticsearch bulk requests) go over plain_post.h instead, which
// writes the body from the caller's bytes: libcurl would copy it first.
//
// Use from the loop thread only. Callbacks run on the loop thread, never from inside send().
//
//   HttpClient client(loop);
//   HttpRequest req;
//   req.url = "https://node:10250/pods";
//   req.bearer_token = token;
//   req.tls.ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
//   client.send(std::move(req), [](HttpResponse r) { if (r.ok()) ... });
//   ...
//   client.close();  // before the loop is expected to exit
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {

// A TLS protocol version; Any leaves that end of the range to libcurl.
enum class TlsVersion : unsigned char { Any, V1_0, V1_1, V1_2, V1_3 };
// Ruby OpenSSL's names as Fluentd plugins take them: TLSv1, TLSv1_1, TLSv1_2, TLSv1_3 (Fluent::TLS,
// fluent-plugin-elasticsearch) and TLS1, TLS1_1... (Net::HTTP's min_version); nullopt otherwise.
std::optional<TlsVersion> parse_tls_version(std::string_view name);

struct TlsOptions {
  std::string ca_file;      // PEM bundle; empty: the system's
  std::string client_cert;  // PEM client certificate (mutual TLS)
  std::string client_key;   // PEM key of client_cert
  bool verify_peer = true;
  bool verify_host = true;
  // The versions offered (min_version = max_version: that one only).
  TlsVersion min_version = TlsVersion::Any, max_version = TlsVersion::Any;
  std::string ciphers;   // OpenSSL cipher list for TLS <= 1.2; empty: libcurl's default
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
// The value of the first field named `name` (case-insensitive), or null.
const std::string* find_header(const HeaderList& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;  // sent as given; a header with an empty value removes libcurl's default
  std::string body;
  // When not empty, sent instead of `body`, without a copy: the caller keeps these bytes alive
  // and unchanged until the response callback has run (e.g. a buffer chunk in flight).
  std::string_view body_view;
  long timeout_ms = 30000;         // whole request; 0: none
  long connect_timeout_ms = 10000; // 0: libcurl's default
  TlsOptions tls;
  std::string user, password;  // HTTP basic auth when user is not empty
  std::string bearer_token;    // `Authorization: Bearer <token>` when not empty
  bool gzip_body = false;      // gzip `body` and send `Content-Encoding: gzip`
  bool accept_compressed = false;  // ask for gzip/deflate responses (decoded transparently)
  size_t max_response_bytes = 256u << 20;  // longer bodies fail the request
  std::string proxy;  // empty: libcurl's environment handling (http_proxy, no_proxy)
};

struct HttpResponse {
  long status = 0;  // HTTP status; 0 when the request failed before a response
  std::string reason;  // the status line's reason phrase (none in HTTP/2), at most 256 bytes
  std::string body;
  HeaderList headers;  // of the final response; names as received
  // Transport error (connection refused, timeout, TLS failure...): libcurl's message. Never holds
  // request headers, tokens or passwords. Empty when a response was received (whatever status).
  std::string error;
  bool timed_out = false;
  double seconds = 0;  // total time

  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // Case-insensitive header lookup; null when absent.
  const std::string* header(std::string_view name) const;
};

using ResponseCallback = std::function<void(HttpResponse)>;

class HttpClient {
 public:
  struct Options {
    size_t max_concurrent = 16;   // connections in use at once; more requests wait in a queue
    size_t pool_size = 16;        // idle connections kept for reuse
    size_t max_per_host = 0;      // 0: no limit beyond max_concurrent
    std::string user_agent = "sluice";

    // A buffered output's: its flush_thread_count requests at once, plus one spare connection.
    static Options for_output(int flush_thread_count);
  };

  explicit HttpClient(uv_loop_t* loop);
  HttpClient(uv_loop_t* loop, Options options);
  ~HttpClient();  // close()
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request. The callback runs exactly once on the loop thread (later, never inside
  // send), unless close() is called first. Returns an id for cancel(). After close(), send()
  // does nothing and returns 0.
  uint64_t send(HttpRequest request, ResponseCallback callback);
  // Aborts one request; its callback is called with error "cancelled". Unknown ids are ignored.
  void cancel(uint64_t id);
  // Aborts every request without calling their callbacks, closes connections and frees the
  // loop handles, so the loop can exit. Idempotent. The object may be destroyed right after.
  void close();

  size_t in_flight() const;
  bool closed() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The reason phrase of an `HTTP/x SP 3DIGIT SP reason` status line, trimmed, at most 256 bytes.
std::string status_line_reason(std::string_view line);

// gzip (RFC 1952) of `data`, as sent with `Content-Encoding: gzip`.
std::string gzip_compress(std::string_view data, int level = 6);

}  // namespace sluice::http

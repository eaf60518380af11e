// `<source> @type prometheus`: serves the process's metrics (core/metrics.h) in the Prometheus
// text format over a small HTTP/1.1 server on libuv TCP, as fluent-plugin-prometheus's
// in_prometheus does (see README.md). One request per connection (`Connection: close`); request
// heads are bounded, idle connections time out, and a peer that sends garbage gets a 4xx and is
// closed. `prometheus_output_monitor` (and `prometheus_monitor`, `prometheus_tail_monitor`) are
// accepted and validated, and do nothing: sluice's plugins export their counters themselves.
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <unordered_set>

#include "core/log.h"
#include "core/registry.h"
#include "core/tcp_listen.h"
#include "core/uv_handle.h"
#include "http/server_connection.h"
#include "prometheus_http.h"

namespace sluice {

namespace {

constexpr size_t kMaxHead = 8 * 1024;
constexpr uint64_t kIdleTimeoutMs = 10'000;   // to send a whole request head
constexpr uint64_t kLingerMs = 2'000;         // draining the peer after the answer
constexpr size_t kMaxDrain = 1 << 20;         // bytes discarded after the answer before closing
constexpr size_t kMaxConnections = 256;

struct Settings {
  std::string bind = "0.0.0.0";
  int port = 24231;
  prometheus::Routes routes;
};

class PrometheusInput : public Input {
 public:
  PrometheusInput(PluginContext& ctx, Settings s)
      : loop_(ctx.loop), metrics_(ctx.metrics), id_(ctx.id), s_(std::move(s)) {
    // Only worker 0 listens (one socket per port); the metrics are process-wide.
    if (ctx.dry_run || ctx.worker_id != 0) return;
    listen(ctx);
  }

  ~PrometheusInput() override { stop(); }

  void start() override {
    if (!server_) return;
    log::info("[" + id_ + "] listening for metrics on " + bound_ + s_.routes.metrics_path);
  }

  void stop() override {
    if (server_ && uv_is_closing(reinterpret_cast<uv_handle_t*>(server_))) server_->data = nullptr;
    if (server_ && !server_->data) server_ = nullptr;
    close_uv_handle(server_);
    for (Conn* c : std::vector<Conn*>(conns_.begin(), conns_.end())) close_conn(c);
  }

 private:
  struct Conn {
    PrometheusInput* owner = nullptr;
    uv_tcp_t tcp;
    uv_timer_t timer;
    std::string buf;
    size_t drained = 0;
    bool answered = false;
    bool closing = false;
    int handles = 2;  // tcp and timer: freed when both are closed
  };
  struct WriteReq {
    uv_write_t req;
    std::string data;
    Conn* conn;
  };

  void listen(PluginContext& ctx) {
    sockaddr_storage addr;
    if (!ip_address(s_.bind, s_.port, addr))
      throw ConfigException(ctx.section->pos, "prometheus: bind '" + s_.bind + "' is not an IP address");
    std::string error;
    server_ = listen_tcp(loop_, addr, 128, this, [](uv_stream_t* s, int status) {
      if (s->data && status == 0) static_cast<PrometheusInput*>(s->data)->accept();
    }, error);
    if (!server_)
      throw ConfigException(ctx.section->pos, "prometheus: cannot listen on " + s_.bind + ":" +
                                                  std::to_string(s_.port) + ": " + error);
    sockaddr_storage ss{};
    int len = sizeof ss;
    uv_tcp_getsockname(server_, reinterpret_cast<sockaddr*>(&ss), &len);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      uv_ip6_name(a, ip, sizeof ip);
      bound_ = "[" + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port));
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      uv_ip4_name(a, ip, sizeof ip);
      bound_ = std::string(ip) + ":" + std::to_string(ntohs(a->sin_port));
    }
  }

  void accept() {
    auto* c = new Conn;
    c->owner = this;
    uv_tcp_init(loop_, &c->tcp);
    uv_timer_init(loop_, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(server_), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      c->owner = nullptr;
      c->closing = true;
      http::close_tcp_and_timer(c);
      return;
    }
    conns_.insert(c);
    if (conns_.size() > kMaxConnections) {
      log::warn_once("prometheus.busy." + id_, "[" + id_ + "] more than " +
                                                   std::to_string(kMaxConnections) +
                                                   " metrics connections at once; refusing more with 503");
      c->answered = true;  // no request is read
      write(c, prometheus::serialize(prometheus::error_response(503), false));
      return;
    }
    uv_timer_start(&c->timer, [](uv_timer_t* t) {
      auto* c = static_cast<Conn*>(t->data);
      if (!c->owner || c->closing) return;
      if (c->answered) {
        c->owner->close_conn(c);  // the peer did not close after the answer
      } else {
        c->owner->answer(c, prometheus::error_response(408), false);
      }
    }, kIdleTimeoutMs, 0);
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
          auto* self = static_cast<Conn*>(h->data)->owner;
          static char dummy[1];
          if (!self) {
            *b = uv_buf_init(dummy, 0);
            return;
          }
          *b = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* c = static_cast<Conn*>(s->data);
          if (!c->owner || c->closing) return;
          c->owner->on_read(c, n, b);
        });
  }

  void on_read(Conn* c, ssize_t n, const uv_buf_t* b) {
    if (n == 0) return;
    if (n < 0) {
      close_conn(c);
      return;
    }
    if (c->answered) {
      // Draining what the peer still sends, so that closing does not reset the answer away.
      c->drained += size_t(n);
      if (c->drained > kMaxDrain) close_conn(c);
      return;
    }
    size_t room = kMaxHead + 1 - c->buf.size();
    c->buf.append(b->base, std::min(size_t(n), room));
    prometheus::Request req;
    size_t head_len = 0;
    switch (prometheus::parse_request(c->buf, kMaxHead, req, head_len)) {
      case prometheus::ParseStatus::NeedMore:
        return;
      case prometheus::ParseStatus::Bad:
        log::debug("[" + id_ + "] bad HTTP request: " + log::quote_excerpt(c->buf, 80));
        answer(c, prometheus::error_response(400), false);
        return;
      case prometheus::ParseStatus::TooLarge:
        answer(c, prometheus::error_response(431), false);
        return;
      case prometheus::ParseStatus::Ok:
        break;
    }
    auto resp = prometheus::route(req, s_.routes, [this] {
      if (!metrics_) return std::string();
      // sluice's counters, then the families of `<filter> @type prometheus` <metric>s.
      return prometheus::render(metrics_->snapshot()) + metrics_->render_families();
    });
    answer(c, resp, req.method == "HEAD");
  }

  void answer(Conn* c, const prometheus::Response& r, bool head_only) {
    c->answered = true;
    c->buf = std::string();
    uv_timer_start(&c->timer, [](uv_timer_t* t) {
      auto* c = static_cast<Conn*>(t->data);
      if (c->owner && !c->closing) c->owner->close_conn(c);
    }, kLingerMs + kIdleTimeoutMs, 0);
    write(c, prometheus::serialize(r, head_only));
  }

  void write(Conn* c, std::string data) {
    auto* w = new WriteReq{{}, std::move(data), c};
    uv_buf_t b = uv_buf_init(w->data.data(), unsigned(w->data.size()));
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1,
                      [](uv_write_t* req, int status) {
                        auto* w = reinterpret_cast<WriteReq*>(req);
                        Conn* c = w->conn;
                        delete w;
                        if (!c->owner || c->closing) return;
                        if (status < 0) {
                          c->owner->close_conn(c);
                          return;
                        }
                        c->owner->after_write(c);
                      });
    if (rc != 0) {
      delete w;
      close_conn(c);
    }
  }

  // The answer is out: half-close, then wait (bounded) for the peer to close its side.
  void after_write(Conn* c) {
    if (!http::shutdown_and_linger(&c->tcp, &c->timer, kLingerMs, [](uv_timer_t* t) {
          auto* c = static_cast<Conn*>(t->data);
          if (c->owner && !c->closing) c->owner->close_conn(c);
        }))
      close_conn(c);
  }

  void close_conn(Conn* c) { http::close_connection(c, conns_); }

  uv_loop_t* loop_;
  Metrics* metrics_;
  std::string id_;
  Settings s_;
  std::string bound_;
  uv_tcp_t* server_ = nullptr;
  std::unordered_set<Conn*> conns_;
  char read_buf_[16 * 1024];
};

// Accepted for compatibility; sluice's plugins export their own counters.
class NoopInput : public Input {
 public:
  void start() override {}
  void stop() override {}
  bool at_eof() const override { return true; }
};

constexpr auto& P = spec::with_default;
constexpr auto& Ign = spec::ignored;

PluginSpec prometheus_spec() {
  PluginSpec s{"input", "prometheus",
               "Serves sluice's metrics in the Prometheus text format over HTTP "
               "(fluent-plugin-prometheus's in_prometheus); also GET /healthz.",
               {},
               {"ssl", "transport"}};
  s.params = {
      P("bind", ParamType::String, "0.0.0.0", "Address to listen on."),
      P("port", ParamType::Integer, "24231", "TCP port (0: an ephemeral one, logged at start)."),
      P("metrics_path", ParamType::String, "/metrics", "Path that serves the metrics."),
      P("aggregated_metrics_path", ParamType::String, "/aggregated_metrics",
        "Also serves the metrics (sluice's metrics are process-wide: there is nothing to aggregate)."),
      spec::choice("content_encoding", "identity", {"identity", "gzip"},
                   "gzip: compress the answer when the client sends Accept-Encoding: gzip."),
  };
  return s;
}

std::unique_ptr<Input> make_prometheus(PluginContext& ctx, const Params& p) {
  for (auto& child : p.section().children) {
    if (child.name == "ssl") {
      // fluent-plugin-prometheus: `<ssl>` is off unless `enable true`.
      bool enabled = false;
      if (auto* e = child.param("enable"); e && (!parse_bool(e->value, enabled)))
        throw ConfigException(e->pos, "prometheus: <ssl> enable must be true or false");
      if (enabled)
        throw ConfigException(child.pos, "prometheus: <ssl> (HTTPS metrics) is not supported by "
                                         "sluice; serve plain HTTP, or terminate TLS in front of it");
    } else if (child.name == "transport") {
      if (!child.arg.empty() && child.arg != "tcp")
        throw ConfigException(child.pos, "prometheus: <transport " + child.arg + "> is not supported "
                                         "by sluice; serve plain HTTP, or terminate TLS in front of it");
    }
  }
  Settings s;
  s.bind = p.str("bind");
  s.port = int(p.integer("port"));
  if (p.integer("port") < 0 || p.integer("port") > 65535)
    throw ConfigException(p.pos("port"), "prometheus: port out of range (0..65535)");
  s.routes.metrics_path = p.str("metrics_path");
  s.routes.aggregated_metrics_path = p.str("aggregated_metrics_path");
  for (const char* k : {"metrics_path", "aggregated_metrics_path"}) {
    std::string v = p.str(k);
    if (v.empty() || v[0] != '/' || v.find_first_of("?# \t") != std::string::npos)
      throw ConfigException(p.pos(k), std::string("prometheus: ") + k +
                                          " must be a path starting with '/' (got \"" + v + "\")");
  }
  s.routes.gzip = p.str("content_encoding") == "gzip";
  return std::make_unique<PrometheusInput>(ctx, std::move(s));
}

PluginSpec monitor_spec(const std::string& type, const std::string& what) {
  PluginSpec s{"input", type,
               "Accepted for compatibility with fluent-plugin-prometheus (" + what +
                   "); does nothing: sluice's plugins export their own counters, served by "
                   "@type prometheus.",
               {},
               {"labels"}};
  s.params = {
      P("interval", ParamType::Duration, "5", "Accepted; nothing is polled."),
  };
  if (type == "prometheus_tail_monitor")
    s.params.push_back(Ign("pos_file_path", ParamType::String, "Accepted; ignored."));
  if (type == "prometheus_monitor" || type == "prometheus_output_monitor")
    s.params.push_back(Ign("gauge_all", ParamType::Bool, "Accepted; ignored."));
  return s;
}

std::unique_ptr<Input> make_monitor(PluginContext& ctx, const Params& p) {
  for (auto& child : p.section().children)
    if (child.name == "labels" && !child.children.empty())
      throw ConfigException(child.children.front().pos, "prometheus: <labels> takes key value pairs, "
                                                        "not sections");
  double interval = p.seconds("interval");
  if (interval <= 0)
    throw ConfigException(p.pos("interval"), "prometheus: interval must be positive");
  (void)ctx;
  return std::make_unique<NoopInput>();
}

}  // namespace

void register_in_prometheus(Registry& registry) {
  registry.add_input(prometheus_spec(), make_prometheus);
  registry.add_input(monitor_spec("prometheus_output_monitor", "output plugin metrics"), make_monitor);
  registry.add_input(monitor_spec("prometheus_monitor", "buffer and retry metrics"), make_monitor);
  registry.add_input(monitor_spec("prometheus_tail_monitor", "in_tail position metrics"), make_monitor);
}

}  // namespace sluice

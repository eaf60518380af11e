// `<source> @type forward`: Fluentd's forward protocol server on libuv TCP (see README.md).
// Frames are delimited by a bounded, resumable scanner and decoded by FrameDecoder
// (forward_decoder.h); one batch per frame is emitted, then `{"ack": chunk}` is answered when the
// frame asked for it. A peer that sends something that is not the forward protocol gets one
// warning naming its address and its connection is closed; other connections carry on.
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <utility>
#include <unordered_set>

#include "core/log.h"
#include "core/registry.h"
#include "core/tcp_listen.h"
#include "core/uv_handle.h"
#include "format/msgpack.h"
#include "forward_decoder.h"
#include "forward_handshake.h"
#include "forward_transport.h"

namespace sluice {

namespace {

std::string peer_name(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  return "?";
}

std::string peer_ip(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&ss), ip, sizeof ip);
  if (ss.ss_family == AF_INET6) uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&ss), ip, sizeof ip);
  return ip;
}

struct Settings {
  std::string bind = "0.0.0.0";
  int port = 24224;
  int linger_timeout = 0;
  uint64_t chunk_size_warn_limit = 0;  // 0: none
  bool chunk_size_limit_set = false;
  bool skip_invalid_event = false;
  std::string source_hostname_key;
  std::string source_address_key;
  bool deny_keepalive = false;
  std::string add_tag_prefix;
  std::string tag;
  bool udp_heartbeat = true;
  forward::Limits limits;
  bool secure = false;  // <security>: every connection starts with the handshake
  forward::ServerSecurity security;
  std::shared_ptr<TlsContext> tls;  // <transport tls>; null: plain TCP
};

class ForwardInput : public Input {
 public:
  ForwardInput(PluginContext& ctx, Settings s)
      : loop_(ctx.loop),
        emitter_(ctx.emitter),
        flow_(ctx.flow),
        id_(ctx.id),
        s_(std::move(s)),
        decoder_(s_.limits),
        alive_(std::make_shared<bool>(true)),
        m_records_(ctx.counter("sluice_input_records_total")),
        m_bytes_(ctx.counter("sluice_input_bytes_total")),
        m_frames_(ctx.counter("sluice_forward_frames_total")),
        m_acks_(ctx.counter("sluice_forward_acks_total")),
        m_connections_(ctx.counter("sluice_forward_connections_total")),
        m_protocol_errors_(ctx.counter("sluice_forward_protocol_errors_total")),
        m_invalid_events_(ctx.counter("sluice_forward_invalid_events_total")),
        m_auth_failures_(ctx.counter("sluice_forward_auth_failures_total")) {
    decoder_.now = nullptr;
    if (ctx.dry_run) return;
    listen(ctx);
  }

  ~ForwardInput() override {
    *alive_ = false;
    stop();
  }

  void start() override {
    if (!server_) return;
    if (flow_)
      flow_->on_resume([this, alive = std::weak_ptr<bool>(alive_)] {
        auto a = alive.lock();
        if (a && *a) resume();
      });
    log::info("[" + id_ + "] listening port port=" + std::to_string(s_.port) + " bind=\"" +
              s_.bind + "\"");
  }

  void stop() override {
    stopped_ = true;
    for (uv_handle_t* h : {reinterpret_cast<uv_handle_t*>(server_), reinterpret_cast<uv_handle_t*>(udp_)})
      if (h && uv_is_closing(h)) h->data = nullptr;  // already closed by the worker's final sweep
    if (server_ && !server_->data) server_ = nullptr;
    if (udp_ && !udp_->data) udp_ = nullptr;
    close_uv_handle(server_);
    close_uv_handle(udp_);
    for (Conn* c : std::vector<Conn*>(conns_.begin(), conns_.end())) close_conn(c);
  }

 private:
  struct Conn {
    ForwardInput* owner = nullptr;
    uv_tcp_t tcp;
    std::string peer;     // ip:port
    std::string address;  // ip
    std::string hostname;
    std::string buf;
    size_t start = 0;  // first byte of the current frame in buf
    forward::FrameScanner scanner;
    uint64_t frames = 0;
    uint64_t received = 0;
    bool closing = false;
    bool reading = false;
    bool ready = false;  // hostname resolved (when asked for)
    bool close_after_write = false;
    int writes = 0;
    std::unique_ptr<forward::ServerHandshake> handshake;  // until the client's PING is accepted
    // <transport tls>: the session, and what was written before its handshake ended (HELO).
    std::unique_ptr<TlsSession> tls;
    bool tls_ready = false;
    std::string before_tls;
    explicit Conn(const forward::Limits& l) : scanner(l) {}
  };
  struct WriteReq {
    uv_write_t req;
    std::string data;
    Conn* conn;
  };

  void listen(PluginContext& ctx) {
    sockaddr_storage addr;
    if (!ip_address(s_.bind, s_.port, addr))
      throw ConfigException(ctx.section->pos, "forward: bind '" + s_.bind + "' is not an IP address");
    std::string error;
    // Every worker accepts connections on the port, as Fluentd's do.
    server_ = listen_tcp_shared(loop_, id_, ctx.worker_id, ctx.workers, addr, 1024, this,
                                [](uv_stream_t* s, int status) {
      if (s->data && status == 0) static_cast<ForwardInput*>(s->data)->accept();
    }, error);
    if (!server_)
      throw ConfigException(ctx.section->pos, "forward: cannot listen on " + s_.bind + ":" +
                                                  std::to_string(s_.port) + ": " + error);
    int rc = 0;
    // One heartbeat responder is enough (and a second could not bind the port).
    if (s_.udp_heartbeat && ctx.worker_id == 0) {
      udp_ = new_uv_handle<uv_udp_t>(this);
      uv_udp_init(loop_, udp_);
      rc = uv_udp_bind(udp_, reinterpret_cast<sockaddr*>(&addr), 0);
      if (rc == 0)
        rc = uv_udp_recv_start(
            udp_,
            [](uv_handle_t*, size_t, uv_buf_t* b) {
              static char buf[64];
              *b = uv_buf_init(buf, sizeof buf);
            },
            [](uv_udp_t* u, ssize_t n, const uv_buf_t*, const sockaddr* from, unsigned) {
              // Heartbeat request: answer with one byte, as Fluentd's in_forward does.
              if (n < 0 || !from || !u->data) return;
              static char zero = 0;
              uv_buf_t b = uv_buf_init(&zero, 1);
              uv_udp_try_send(u, &b, 1, from);
            });
      if (rc != 0) {
        log::warn("[" + id_ + "] UDP heartbeat responder not started on port " +
                  std::to_string(s_.port) + ": " + uv_strerror(rc));
        close_uv_handle(udp_);
      }
    }
  }

  void accept() {
    auto* c = new Conn(s_.limits);
    c->owner = this;
    uv_tcp_init(loop_, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(reinterpret_cast<uv_stream_t*>(server_), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
               [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
      return;
    }
    conns_.insert(c);
    bump(m_connections_);
    sockaddr_storage ss{};
    int len = sizeof ss;
    uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&ss), &len);
    c->peer = peer_name(ss);
    c->address = peer_ip(ss);
    c->hostname = c->address;
    if (s_.tls) c->tls = std::make_unique<TlsSession>(*s_.tls);
    if (s_.secure) {
      c->handshake = std::make_unique<forward::ServerHandshake>(s_.security);
      std::string helo = c->handshake->helo();
      if (helo.empty()) {
        log::error("[" + id_ + "] no random bytes for the handshake's nonce; closing the connection from " + c->peer);
        close_conn(c);
        return;
      }
      write(c, std::move(helo));
      if (c->closing) return;
    }
    if (s_.linger_timeout > 0) {
      uv_os_fd_t fd;
      if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->tcp), &fd) == 0) {
        linger l{1, s_.linger_timeout};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
    }
    if (!s_.source_hostname_key.empty()) {
      // Resolve the peer's name first (reading waits), as Fluentd's resolve_hostname does.
      struct Req {
        uv_getnameinfo_t req;
        Conn* conn;
        std::weak_ptr<bool> alive;
      };
      auto* r = new Req{{}, c, alive_};
      int rc = uv_getnameinfo(loop_, &r->req,
                              [](uv_getnameinfo_t* q, int status, const char* host, const char*) {
                                auto* r = reinterpret_cast<Req*>(q);
                                auto a = r->alive.lock();
                                Conn* c = r->conn;
                                delete r;
                                if (!a || !*a || !c->owner || c->closing) return;
                                if (status == 0 && host) c->hostname = host;
                                c->ready = true;
                                c->owner->start_reading(c);
                              },
                              reinterpret_cast<sockaddr*>(&ss), 0);
      if (rc == 0) return;
      delete r;
    }
    c->ready = true;
    start_reading(c);
  }

  void start_reading(Conn* c) {
    if (c->closing || c->reading || paused_ || !c->ready) return;
    c->reading = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* b) {
          auto* self = static_cast<Conn*>(h->data)->owner;
          *b = uv_buf_init(self->read_buf_, sizeof self->read_buf_);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* c = static_cast<Conn*>(s->data);
          if (!c->owner) return;
          c->owner->on_read(c, n, b);
        });
  }

  void stop_reading(Conn* c) {
    if (!c->reading || c->closing) return;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }

  void on_read(Conn* c, ssize_t n, const uv_buf_t* b) {
    if (n == 0) return;
    if (n < 0) {
      size_t pending = c->buf.size() - c->start;
      if (n == UV_EOF && pending == 0) {
        // A bare connect (Fluentd's transport heartbeat) or a clean end: nothing to say.
        close_conn(c);
        return;
      }
      if (pending > 0) {
        protocol_error(c, "connection closed in the middle of a frame (" + std::to_string(pending) +
                              " bytes received of it)");
        return;
      }
      log::debug("[" + id_ + "] connection from " + c->peer + " ended: " + uv_strerror(int(n)));
      close_conn(c);
      return;
    }
    if (c->closing) return;
    c->received += uint64_t(n);
    bump(m_bytes_, uint64_t(n));
    if (c->tls) {
      if (!read_tls(c, b->base, size_t(n))) return;
    } else {
      c->buf.append(b->base, size_t(n));
    }
    process(c);
  }

  // Ciphertext from the client: the handshake first, then plaintext into c->buf. False when the
  // connection was closed.
  bool read_tls(Conn* c, const char* data, size_t n) {
    // A TLS connection opens with a handshake record (type 22): anything else is a client
    // configured without TLS, worth saying in those words.
    if (!c->tls_ready && c->received == n && static_cast<unsigned char>(data[0]) != 22) {
      protocol_error(c, "the client does not speak TLS, which <transport tls> expects");
      return false;
    }
    c->tls->received(data, n);
    std::string error;
    if (!c->tls_ready) {
      std::string out;
      const TlsSession::Status st = c->tls->handshake(out, error);
      if (!out.empty()) write_raw(c, std::move(out));
      if (st == TlsSession::Status::Failed) {
        protocol_error(c, "TLS handshake failed: " + error);
        return false;
      }
      if (st == TlsSession::Status::NeedMore || c->closing) return !c->closing;
      c->tls_ready = true;
      if (!c->before_tls.empty()) write(c, std::exchange(c->before_tls, {}));
      if (c->closing) return false;
    }
    if (c->tls->decrypt(c->buf, error) == TlsSession::Status::Failed) {
      protocol_error(c, error);
      return false;
    }
    return true;
  }

  void process(Conn* c) {
    while (!c->closing && !paused_ && !stopped_) {
      std::string_view pending(c->buf.data() + c->start, c->buf.size() - c->start);
      if (pending.empty()) break;
      if (c->frames == 0 && c->scanner.scanned() == 0 && (pending[0] == '{' || pending[0] == '[')) {
        protocol_error(c, "the peer sent JSON (or text); sluice's in_forward speaks msgpack only");
        return;
      }
      if (c->frames == 0 && c->scanner.scanned() == 0 && pending.size() >= 4 &&
          (pending.substr(0, 4) == "GET " || pending.substr(0, 4) == "POST" ||
           pending.substr(0, 4) == "HEAD" || pending.substr(0, 4) == "PUT ")) {
        protocol_error(c, "the peer sent an HTTP request (" + log::quote_excerpt(pending.substr(0, pending.find('\r')), 80) +
                              "); this port speaks the forward protocol");
        return;
      }
      uint64_t len = 0;
      std::string err;
      auto st = c->scanner.scan(pending, len, err);
      if (st == forward::FrameScanner::Status::NeedMore) break;
      if (st == forward::FrameScanner::Status::Error) {
        protocol_error(c, err);
        return;
      }
      c->scanner.reset();
      if (c->handshake) {
        if (!handle_ping(c, pending.substr(0, size_t(len)))) return;
        c->start += size_t(len);
        continue;
      }
      ++c->frames;
      if (!handle_frame(c, pending.substr(0, size_t(len)))) return;
      c->start += size_t(len);
      if (s_.deny_keepalive) {
        // One request per connection: close once the answer (if any) is written.
        if (c->writes > 0) {
          c->close_after_write = true;
          stop_reading(c);
        } else {
          close_conn(c);
        }
        return;
      }
    }
    if (c->closing) return;
    if (c->start == c->buf.size()) {
      c->buf.clear();
      if (c->buf.capacity() > (1u << 20)) std::string().swap(c->buf);  // after a large frame
      c->start = 0;
    } else if (c->start >= (64u << 10) && c->start * 2 >= c->buf.size()) {
      c->buf.erase(0, c->start);
      c->start = 0;
    }
  }

  // <security>: the first message must be a PING proving the shared key (and the user). False
  // when the connection is refused: it closes once the PONG saying why is written.
  bool handle_ping(Conn* c, std::string_view frame) {
    bool accepted = false;
    std::string reason;
    write(c, c->handshake->on_ping(frame, c->address, accepted, reason));
    if (accepted) {
      c->handshake.reset();
      return !c->closing;
    }
    bump(m_auth_failures_);
    log::warn("[" + id_ + "] refusing the connection from " + c->peer + ": " + reason);
    if (c->closing) return false;
    c->close_after_write = true;
    stop_reading(c);
    return false;
  }

  // False when the connection was closed.
  bool handle_frame(Conn* c, std::string_view frame) {
    bump(m_frames_);
    batch_.clear();
    forward::FrameInfo info;
    std::string err;
    if (!decoder_.decode(frame, batch_, info, err)) {
      batch_.clear();
      protocol_error(c, err);
      return false;
    }
    if (info.mode == forward::FrameInfo::Mode::Heartbeat) return true;
    std::string tag = s_.tag.empty() ? info.tag : s_.tag;
    if (!s_.add_tag_prefix.empty()) tag = s_.add_tag_prefix + "." + tag;
    if (s_.chunk_size_warn_limit && frame.size() > s_.chunk_size_warn_limit)
      log::warn("[" + id_ + "] Input chunk size is larger than 'chunk_size_warn_limit': tag=\"" +
                log::quote_excerpt(tag, 200) + "\" host=\"" + c->address + "\" limit=" +
                std::to_string(s_.chunk_size_warn_limit) + " size=" + std::to_string(frame.size()));
    if (info.skipped > 0) {
      bump(m_invalid_events_, info.skipped);
      log::warn_once("forward.invalid." + id_ + "." + info.skip_reason,
                     "[" + id_ + "] skipped " + std::to_string(info.skipped) +
                         " invalid event(s) from " + c->peer + " (tag \"" +
                         log::quote_excerpt(tag, 200) + "\"): " + info.skip_reason +
                         " (further ones are counted in sluice_forward_invalid_events_total)");
    }
    if (!batch_.records.empty()) {
      batch_.tag = tag;
      if (!s_.source_address_key.empty())
        batch_.common_fields.push_back({s_.source_address_key, Value::of_string(c->address)});
      if (!s_.source_hostname_key.empty())
        batch_.common_fields.push_back({s_.source_hostname_key, Value::of_string(c->hostname)});
      bump(m_records_, batch_.records.size());
      emitter_->emit(batch_);
    }
    batch_.clear();
    if (!info.entries_error.empty()) {
      bump(m_protocol_errors_);
      log::warn("[" + id_ + "] could not decode the events of a frame from " + c->peer + " (tag \"" +
                log::quote_excerpt(tag, 200) + "\"): " + info.entries_error +
                (info.chunk.empty() ? "" : "; no ack is sent for it"));
    } else if (!info.chunk.empty()) {
      std::string ack;
      msgpack::append_map_header(ack, 1);
      msgpack::append_str(ack, "ack");
      msgpack::append_str(ack, info.chunk);
      write(c, std::move(ack));
      bump(m_acks_);
    }
    if (flow_ && flow_->blocked()) pause();
    return !c->closing;
  }

  // Plaintext to the client, encrypted with <transport tls> (held until its handshake is done).
  void write(Conn* c, std::string data) {
    if (c->tls) {
      if (!c->tls_ready) {
        c->before_tls += data;
        return;
      }
      std::string wire, error;
      if (!c->tls->encrypt(data, wire, error)) {
        protocol_error(c, error);
        return;
      }
      data = std::move(wire);
    }
    write_raw(c, std::move(data));
  }

  void write_raw(Conn* c, std::string data) {
    auto* w = new WriteReq{{}, std::move(data), c};
    uv_buf_t b = uv_buf_init(w->data.data(), unsigned(w->data.size()));
    ++c->writes;
    int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1,
                      [](uv_write_t* req, int status) {
                        auto* w = reinterpret_cast<WriteReq*>(req);
                        Conn* c = w->conn;
                        delete w;
                        --c->writes;
                        if (!c->owner || c->closing) return;
                        if (status < 0) {
                          log::debug("[" + c->owner->id_ + "] cannot answer " + c->peer + ": " +
                                     uv_strerror(status));
                          c->owner->close_conn(c);
                        } else if (c->close_after_write && c->writes == 0) {
                          c->owner->close_conn(c);
                        }
                      });
    if (rc != 0) {
      --c->writes;
      delete w;
      close_conn(c);
    }
  }

  void protocol_error(Conn* c, const std::string& why) {
    bump(m_protocol_errors_);
    log::warn("[" + id_ + "] closing the connection from " + c->peer + ": " + why + " (after " +
              std::to_string(c->frames) + " good frame(s), " + std::to_string(c->received) +
              " bytes received)");
    close_conn(c);
  }

  void close_conn(Conn* c) {
    if (c->closing) return;
    c->closing = true;
    conns_.erase(c);
    c->owner = nullptr;
    c->buf = std::string();
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) return;  // the worker's final sweep
    if (c->tls) send_close_notify(reinterpret_cast<uv_stream_t*>(&c->tcp), *c->tls);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) {
      // libuv has run the cancelled writes' callbacks before this one.
      delete static_cast<Conn*>(h->data);
    });
  }

  void pause() {
    if (paused_) return;
    paused_ = true;
    for (Conn* c : conns_) stop_reading(c);
  }

  void resume() {
    if (!paused_ || stopped_) return;
    paused_ = false;
    for (Conn* c : std::vector<Conn*>(conns_.begin(), conns_.end())) {
      if (paused_) break;
      if (conns_.count(c) == 0) continue;
      process(c);
      if (conns_.count(c) && !paused_) start_reading(c);
    }
  }

  uv_loop_t* loop_;
  Emitter* emitter_;
  FlowControl* flow_;
  std::string id_;
  Settings s_;
  forward::FrameDecoder decoder_;
  std::shared_ptr<bool> alive_;
  uv_tcp_t* server_ = nullptr;
  uv_udp_t* udp_ = nullptr;
  std::unordered_set<Conn*> conns_;
  Batch batch_;
  bool paused_ = false;
  bool stopped_ = false;
  char read_buf_[64 * 1024];

  Counter& m_records_;
  Counter& m_bytes_;
  Counter& m_frames_;
  Counter& m_acks_;
  Counter& m_connections_;
  Counter& m_protocol_errors_;
  Counter& m_invalid_events_;
  Counter& m_auth_failures_;
};

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

PluginSpec forward_spec() {
  PluginSpec s{"input", "forward",
               "Fluentd forward protocol server (Message, Forward, PackedForward and "
               "CompressedPackedForward modes, acks, the <security> handshake); TCP or TLS, plus the UDP "
               "heartbeat responder.",
               {},
               {"security", "transport", "user", "client"}};
  s.params = {
      P("bind", ParamType::String, "0.0.0.0", "Address to listen on."),
      P("port", ParamType::Integer, "24224", "TCP (and UDP heartbeat) port."),
      P("linger_timeout", ParamType::Integer, "0", "SO_LINGER seconds on accepted sockets (0: off)."),
      Opt("chunk_size_limit", ParamType::Size,
          "Largest frame accepted; a larger one closes the connection (Fluentd drops the frame). "
          "Unset: 64 MiB (sluice always keeps a bound)."),
      Opt("chunk_size_warn_limit", ParamType::Size, "Warn about frames larger than this."),
      P("skip_invalid_event", ParamType::Bool, "false",
        "Accepted; sluice always skips events that are not (time, map) and counts them."),
      Opt("source_hostname_key", ParamType::String, "Add the peer's resolved host name as this field."),
      Opt("source_address_key", ParamType::String, "Add the peer's IP address as this field."),
      P("deny_keepalive", ParamType::Bool, "false", "Close each connection after one request."),
      Opt("add_tag_prefix", ParamType::String, "Prefix added to incoming tags (`prefix.tag`)."),
      Opt("tag", ParamType::String, "Replace incoming tags with this one."),
      P("resolve_hostname", ParamType::Bool, "false",
        "Accepted; names are resolved when source_hostname_key is set."),
      Ign("send_keepalive_packet", ParamType::Bool, "Accepted; ignored."),
      Ign("backlog", ParamType::Integer, "Accepted; the listen backlog is 1024."),
      Ign("blocking_timeout", ParamType::Duration, "Accepted; ignored."),
      P("max_inflated_size", ParamType::Size, "256m",
        "sluice: largest decompressed payload of a CompressedPackedForward frame."),
      P("max_nesting_depth", ParamType::Integer, "64", "sluice: deepest array/map nesting accepted."),
  };
  return s;
}

std::unique_ptr<Input> make_forward(PluginContext& ctx, const Params& p) {
  const ConfigSection& sec = p.section();
  for (auto& child : sec.children)
    if (child.name == "user" || child.name == "client")
      throw ConfigException(child.pos, "forward: <" + child.name + "> belongs in <security>");
  Settings s;
  s.tls = forward::read_transport(sec);
  if (const ConfigSection* security = sec.child("security")) {
    s.secure = true;
    s.security = forward::read_server_security(*security);
  }
  s.bind = p.str("bind");
  s.port = int(p.integer("port"));
  if (s.port < 0 || s.port > 65535) throw ConfigException(p.pos("port"), "forward: port out of range");
  s.linger_timeout = int(p.integer("linger_timeout"));
  if (p.has("chunk_size_limit")) {
    s.limits.max_frame = p.size("chunk_size_limit");
    if (s.limits.max_frame < 16) throw ConfigException(p.pos("chunk_size_limit"), "forward: chunk_size_limit is too small");
  }
  if (p.has("chunk_size_warn_limit")) s.chunk_size_warn_limit = p.size("chunk_size_warn_limit");
  s.limits.max_inflated = p.size("max_inflated_size");
  int64_t depth = p.integer("max_nesting_depth");
  if (depth < 4 || depth > 1000) throw ConfigException(p.pos("max_nesting_depth"), "forward: max_nesting_depth must be 4..1000");
  s.limits.max_depth = uint32_t(depth);
  s.skip_invalid_event = p.flag("skip_invalid_event");
  s.source_hostname_key = p.str("source_hostname_key");
  s.source_address_key = p.str("source_address_key");
  s.deny_keepalive = p.flag("deny_keepalive");
  s.add_tag_prefix = p.str("add_tag_prefix");
  if (p.has("add_tag_prefix") && s.add_tag_prefix.empty())
    throw ConfigException(p.pos("add_tag_prefix"), "forward: add_tag_prefix must not be empty");
  s.tag = p.str("tag");
  return std::make_unique<ForwardInput>(ctx, std::move(s));
}

}  // namespace

void register_in_forward(Registry& registry) { registry.add_input(forward_spec(), make_forward); }

}  // namespace sluice

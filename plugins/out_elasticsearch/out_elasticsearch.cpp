// `<match> @type elasticsearch`: fluent-plugin-elasticsearch 5.2.5's documents and action lines,
// formatted into buffer chunks at write() time, sent with `_bulk` over libcurl multi on the loop,
// responses read item by item (see README.md).
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/base64.h"
#include "es_format.h"
#include "es_response.h"
#include "format/json.h"
#include "format/time.h"
#include "http/http_client.h"

namespace sluice {

namespace {

struct Host {
  std::string scheme = "http";
  std::string host = "localhost";
  int port = 9200;
  std::string path;
  std::string user, password;
  double dead_until = 0;
  std::string base() const {
    std::string h = host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
    std::string p = path;
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && p.front() != '/') p = "/" + p;
    return scheme + "://" + h + ":" + std::to_string(port) + p;
  }
  std::string describe() const { return scheme + "://" + host + ":" + std::to_string(port) + path; }
};

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(char(strtol(s.substr(i + 1, 2).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// fluent-plugin-elasticsearch's `hosts`: `host:port,host:port` or URLs
// `https://user:pass@host:port/path`.
std::vector<Host> parse_hosts(const std::string& text, const std::string& scheme, int port,
                              const SourcePos& pos) {
  std::vector<Host> out;
  std::vector<std::string> items;
  parse_array(text, items);
  for (auto item : items) {
    item = trim(item);
    if (item.empty()) continue;
    Host h;
    h.scheme = scheme;
    h.port = port;
    size_t sep = item.find("://");
    if (sep == std::string::npos) {
      size_t colon = item.find(':');
      h.host = item.substr(0, colon);
      if (colon != std::string::npos) h.port = atoi(item.c_str() + colon + 1);
    } else {
      h.scheme = item.substr(0, sep);
      std::string rest = item.substr(sep + 3);
      size_t slash = rest.find('/');
      std::string authority = rest.substr(0, slash);
      if (slash != std::string::npos) h.path = rest.substr(slash);
      size_t at = authority.rfind('@');
      if (at != std::string::npos) {
        std::string userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        size_t c = userinfo.find(':');
        h.user = url_decode(userinfo.substr(0, c));
        if (c != std::string::npos) h.password = url_decode(userinfo.substr(c + 1));
      }
      h.port = h.scheme == "https" ? 443 : 80;
      if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        h.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
          h.port = atoi(authority.c_str() + close + 2);
      } else {
        size_t colon = authority.find(':');
        h.host = authority.substr(0, colon);
        if (colon != std::string::npos) h.port = atoi(authority.c_str() + colon + 1);
      }
    }
    if (h.host.empty() || h.port <= 0 || h.port > 65535)
      throw ConfigException(pos, "invalid entry in hosts: '" + item + "'");
    if (h.scheme != "http" && h.scheme != "https")
      throw ConfigException(pos, "unsupported scheme in hosts: '" + h.scheme + "'");
    out.push_back(std::move(h));
  }
  if (out.empty()) throw ConfigException(pos, "hosts is empty");
  return out;
}


struct Settings {
  std::vector<Host> hosts;
  std::string api_key;
  http::TlsOptions tls;
  long request_timeout_ms = 5000;
  int compression_level = 0;  // 0: none
  bool verify_version = true;
  int default_version = 5;
  int max_retry_get_es_version = 15;
  bool fail_on_detecting_version = true;
  std::vector<std::string> unrecoverable_error_types;
  std::string dead_letter_path;
  bool log_es_400_reason = false;
  http::HeaderList custom_headers;
};

class ElasticsearchOutput : public Output {
 public:
  ElasticsearchOutput(PluginContext& ctx, Settings settings, es::FormatConfig fmt,
                      buffer::Config bconf)
      : loop_(ctx.loop),
        flow_(ctx.flow),
        metrics_(ctx.metrics),
        id_(ctx.id),
        label_emitter_(ctx.label_emitter),
        dry_run_(ctx.dry_run),
        s_(std::move(settings)),
        fmt_(std::move(fmt)),
        alive_(std::make_shared<bool>(true)) {
    auto C = [&](const char* n) { return &ctx.counter(n); };
    m_records_ = C("sluice_output_records_total");
    m_bytes_ = C("sluice_output_bytes_total");
    m_wire_bytes_ = C("sluice_output_wire_bytes_total");
    m_requests_ = C("sluice_es_bulk_requests_total");
    m_request_failures_ = C("sluice_es_bulk_request_failures_total");
    m_retried_items_ = C("sluice_es_retried_items_total");
    m_dead_letters_ = C("sluice_output_dead_letters_total");
    m_dropped_missing_id_ = C("sluice_es_dropped_missing_id_total");
    m_refused_ = C("sluice_output_refused_records_total");
    buffer::Buffer::Hooks hooks;
    hooks.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    hooks.give_up = [this](const buffer::Chunk& c, const std::string& why) { give_up(c, why); };
    hooks.abort = [this] {
      if (client_) client_->close();
    };
    buffer_ = std::make_unique<buffer::Buffer>(loop_, std::move(bconf), flow_, metrics_, id_,
                                               std::move(hooks));
    if (!s_.verify_version) set_version(s_.default_version, false);
  }

  ~ElasticsearchOutput() override {
    *alive_ = false;
    if (version_timer_) {
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(version_timer_)))
        uv_close(reinterpret_cast<uv_handle_t*>(version_timer_),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    }
    buffer_.reset();
    if (client_) client_->close();
  }

  void start() override {
    if (dry_run_) return;
    http::HttpClient::Options o;
    o.max_concurrent = size_t(buffer_->config().flush_thread_count) + 1;
    o.pool_size = o.max_concurrent;
    o.user_agent = std::string("sluice/") + SLUICE_VERSION;
    client_ = std::make_unique<http::HttpClient>(loop_, o);
    if (version_known_) {
      buffer_->start();
      return;
    }
    // Action lines depend on the server's major version, and records are formatted when they
    // arrive: the sources wait until it is known.
    holding_ = true;
    flow_->hold(this);
    version_timer_ = new uv_timer_t;
    uv_timer_init(loop_, version_timer_);
    version_timer_->data = this;
    detect_version();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer_->refusing()) {
      bump(*m_refused_, batch.records.size());
      log::warn_once("es.overflow." + id_, "output " + id_ +
                                              ": buffer is full (overflow_action throw_exception); "
                                              "records are refused");
      return;
    }
    fmt_.begin_batch(batch);
    for (const Record& r : batch.records) {
      std::string_view index = fmt_.index_for(batch, r);
      std::string& out = buffer_->begin_record(batch.tag, r.time, index, batch.claim);
      if (fmt_.append(out, batch, r, index)) {
        buffer_->end_record();
      } else {
        buffer_->cancel_record();
        bump(*m_dropped_missing_id_);
        log::warn_once("es.missing_id." + id_,
                       "output " + id_ + ": dropping records without an '_id' field (write_operation "
                       "create needs id_key or deterministic_id)");
      }
    }
    buffer_->batch_done();
  }

  void close(std::function<void()> done) override {
    closing_ = true;
    if (version_timer_) uv_timer_stop(version_timer_);
    if (holding_) {
      holding_ = false;
      flow_->release(this);
    }
    auto alive = alive_;
    buffer_->close([this, alive, done = std::move(done)] {
      if (*alive && client_) client_->close();
      done();
    });
  }

 private:
  struct Job {
    buffer::Chunk* chunk;
    buffer::SendDone done;
    std::vector<std::pair<size_t, size_t>> segments;  // byte ranges of the payload still to send
    std::vector<size_t> segment_items;
    std::string retry;
    uint64_t retry_records = 0;
    std::string reason;
  };

  Host& pick_host() {
    double now = double(uv_now(loop_)) / 1000.0;
    for (size_t k = 0; k < s_.hosts.size(); ++k) {
      Host& h = s_.hosts[(rr_ + k) % s_.hosts.size()];
      if (h.dead_until <= now) {
        rr_ = (rr_ + k + 1) % s_.hosts.size();
        return h;
      }
    }
    Host& h = s_.hosts[rr_ % s_.hosts.size()];
    rr_ = (rr_ + 1) % s_.hosts.size();
    return h;
  }

  http::HttpRequest base_request(const Host& h) const {
    http::HttpRequest req;
    req.timeout_ms = s_.request_timeout_ms;
    req.connect_timeout_ms = std::min<long>(s_.request_timeout_ms, 10000);
    req.tls = s_.tls;
    req.user = h.user;
    req.password = h.password;
    req.headers.emplace_back("Accept", "*/*");
    if (!s_.api_key.empty()) req.headers.emplace_back("Authorization", "ApiKey " + base64_encode(s_.api_key));
    for (auto& kv : s_.custom_headers) req.headers.push_back(kv);
    return req;
  }

  // ---- version ----

  void set_version(int major, bool log_it) {
    version_known_ = true;
    fmt_.set_major_version(major);
    if (!log_it) return;
    auto& c = fmt_.config();
    if (c.suppress_type_name && major >= 7) return;
    if (major == 6 && c.type_name != "_doc")
      log::info("Detected ES 6.x: ES 7.x will only accept `_doc` in type_name.");
    if (major == 7 && c.type_name != "_doc")
      log::warn("Detected ES 7.x: `_doc` will be used as the document `_type`.");
  }

  void detect_version() {
    if (closing_) return;
    Host& h = pick_host();
    http::HttpRequest req = base_request(h);
    req.method = "GET";
    req.url = h.base() + "/";
    req.headers.emplace_back("Content-Type", "application/json");
    std::weak_ptr<bool> alive = alive_;
    Host* hp = &h;
    client_->send(std::move(req), [this, alive, hp](http::HttpResponse r) {
      auto a = alive.lock();
      if (!a || !*a || closing_) return;
      std::string problem;
      int major = 0;
      if (!r.error.empty()) {
        problem = r.error;
        hp->dead_until = double(uv_now(loop_)) / 1000.0 + 1;
      } else if (r.status < 200 || r.status >= 300) {
        problem = "HTTP " + std::to_string(r.status);
      } else {
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        std::string_view number;
        simdjson::padded_string body(r.body);
        if (parser.parse(body).get(doc) || doc["version"]["number"].get(number)) {
          problem = "no version.number in the response of GET /";
        } else {
          major = atoi(std::string(number).c_str());
          int minor = 0;
          size_t dot = number.find('.');
          if (dot != std::string_view::npos) minor = atoi(std::string(number.substr(dot + 1)).c_str());
          const std::string* product = r.header("X-elastic-product");
          // elasticsearch-ruby refuses such a server; sluice warns and goes on.
          if ((major > 7 || (major == 7 && minor >= 14)) &&
              (!product || *product != "Elasticsearch"))
            log::warn("output " + id_ + ": the server says version " + std::string(number) +
                      " but sends no `X-elastic-product: Elasticsearch` header; "
                      "it may not be Elasticsearch");
        }
      }
      if (problem.empty()) {
        log::info("Connection opened to Elasticsearch cluster => " + hp->describe() +
                  " (version " + std::to_string(major) + ")");
        version_ready(major, true);
        return;
      }
      ++version_attempts_;
      if (version_attempts_ > s_.max_retry_get_es_version && !s_.fail_on_detecting_version) {
        log::warn("output " + id_ + ": could not get the Elasticsearch version (" + problem +
                  "); assuming " + std::to_string(s_.default_version));
        version_ready(s_.default_version, true);
        return;
      }
      double wait = std::min(30.0, std::pow(2.0, std::min(version_attempts_ - 1, 5)));
      log::warn("output " + id_ + ": cannot reach Elasticsearch at " + hp->describe() + " (" +
                problem + "); sources wait; retrying in " + std::to_string(int(wait)) + "s");
      uv_timer_start(
          version_timer_,
          [](uv_timer_t* t) { static_cast<ElasticsearchOutput*>(t->data)->detect_version(); },
          uint64_t(wait * 1000), 0);
    });
  }

  void version_ready(int major, bool log_it) {
    set_version(major, log_it);
    buffer_->start();
    if (holding_) {
      holding_ = false;
      flow_->release(this);
    }
  }

  // ---- sending ----

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    auto job = std::make_shared<Job>();
    job->chunk = &c;
    job->done = std::move(done);
    job->segments.emplace_back(0, c.payload.size());
    job->segment_items.push_back(c.records);
    send_next(job);
  }

  void send_next(const std::shared_ptr<Job>& job) {
    if (job->segments.empty()) {
      finish(job);
      return;
    }
    auto [b, e] = job->segments.front();
    size_t items = job->segment_items.front();
    Host& h = pick_host();
    http::HttpRequest req = base_request(h);
    req.method = "POST";
    req.url = h.base() + "/_bulk";
    req.headers.emplace_back("Content-Type", "application/x-ndjson");
    std::string_view body(job->chunk->payload.data() + b, e - b);
    if (s_.compression_level > 0) {
      req.body = http::gzip_compress(body, s_.compression_level);
      req.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      // No copy: the chunk stays in flight (alive, unchanged) until the response has run.
      req.body_view = body;
    }
    bump(*m_requests_);
    bump(*m_wire_bytes_, req.body_view.empty() ? req.body.size() : req.body_view.size());
    std::weak_ptr<bool> alive = alive_;
    Host* hp = &h;
    client_->send(std::move(req), [this, alive, job, hp, b = b, e = e, items](http::HttpResponse r) {
      auto a = alive.lock();
      if (!a || !*a) return;
      on_response(job, hp, b, e, items, std::move(r));
    });
  }

  void whole_failure(const std::shared_ptr<Job>& job, const std::string& reason) {
    bump(*m_request_failures_);
    for (size_t k = 0; k < job->segments.size(); ++k) {
      auto [b, e] = job->segments[k];
      job->retry.append(job->chunk->payload, b, e - b);
      job->retry_records += job->segment_items[k];
    }
    job->segments.clear();
    job->segment_items.clear();
    job->reason = reason;
    finish(job);
  }

  void on_response(const std::shared_ptr<Job>& job, Host* host, size_t b, size_t e, size_t items,
                   http::HttpResponse r) {
    const std::string& payload = job->chunk->payload;
    std::string_view seg(payload.data() + b, e - b);
    if (!r.error.empty()) {
      host->dead_until = double(uv_now(loop_)) / 1000.0 + 5;
      whole_failure(job, "could not push logs to Elasticsearch cluster (" + host->describe() +
                             "): " + r.error);
      return;
    }
    if (r.status == 413) {
      job->segments.erase(job->segments.begin());
      job->segment_items.erase(job->segment_items.begin());
      auto parts = es::split_items(seg);
      if (parts.size() <= 1) {
        dead_letter(*job->chunk, seg, 413, "\"request entity too large\"", "");
      } else {
        size_t half = parts.size() / 2;
        job->segments.insert(job->segments.begin(),
                             {{b, b + parts[half - 1].second}, {b + parts[half].first, e}});
        job->segment_items.insert(job->segment_items.begin(), {half, parts.size() - half});
      }
      send_next(job);
      return;
    }
    if (r.status < 200 || r.status >= 300) {
      whole_failure(job, "Elasticsearch answered HTTP " + std::to_string(r.status) + ": " +
                             log::quote_excerpt(r.body, 300));
      return;
    }
    es::BulkResult br = es::read_bulk_response(r.body, fmt_.config().write_operation, items,
                                               s_.unrecoverable_error_types);
    if (!br.ok) {
      whole_failure(job, br.problem);
      return;
    }
    job->segments.erase(job->segments.begin());
    job->segment_items.erase(job->segment_items.begin());
    bump(*m_records_, br.succeeded + br.duplicates);
    bump(*m_bytes_, seg.size());
    if (!br.failures.empty()) {
      auto parts = es::split_items(seg);
      size_t retried = 0;
      std::string first_reason;
      for (auto& f : br.failures) {
        bump(status_counter(f.status));
        if (f.index >= parts.size()) continue;
        std::string_view item = seg.substr(parts[f.index].first,
                                           parts[f.index].second - parts[f.index].first);
        if (f.kind == es::ItemFailure::Retry) {
          job->retry.append(item);
          job->retry_records++;
          ++retried;
          if (first_reason.empty())
            first_reason = std::to_string(f.status) + " " + f.type;
        } else {
          dead_letter(*job->chunk, item, f.status, f.error_json, f.type);
        }
      }
      bump(*m_retried_items_, retried);
      if (retried)
        job->reason = std::to_string(retried) + " of " + std::to_string(items) +
                      " items failed and will be retried (first: " + first_reason + ")";
    }
    send_next(job);
  }

  void finish(const std::shared_ptr<Job>& job) {
    auto done = std::move(job->done);
    if (job->retry.empty()) {
      done(buffer::SendResult::success());
    } else if (job->retry.size() == job->chunk->payload.size()) {
      done(buffer::SendResult::retry(job->reason));
    } else {
      done(buffer::SendResult::partial(std::move(job->retry), job->retry_records, job->reason));
    }
  }

  Counter& status_counter(int status) {
    auto it = item_errors_.find(status);
    if (it != item_errors_.end()) return *it->second;
    Counter* c = &metrics_->counter("sluice_es_item_errors_total{plugin=\"" + id_ +
                                    "\",status=\"" + std::to_string(status) + "\"}");
    item_errors_.emplace(status, c);
    return *c;
  }

  // ---- dead letters ----

  void give_up(const buffer::Chunk& c, const std::string& why) {
    if (!c.resident) return;
    for (auto [b, e] : es::split_items(c.payload)) {
      std::string err;
      json::append_string(err, "gave up: " + why);
      dead_letter(c, std::string_view(c.payload).substr(b, e - b), 0, err, "retry_limit");
    }
  }

  void dead_letter(const buffer::Chunk& c, std::string_view item, int status,
                   const std::string& error_json, const std::string& type) {
    bump(*m_dead_letters_);
    size_t nl = item.find('\n');
    std::string_view action = item.substr(0, nl);
    std::string_view doc = nl == std::string_view::npos ? std::string_view() : item.substr(nl + 1);
    while (!doc.empty() && doc.back() == '\n') doc.remove_suffix(1);
    if (s_.log_es_400_reason || status != 400)
      log::warn_once("es.dead." + id_ + "." + std::to_string(status),
                     "output " + id_ + ": " + std::to_string(status) + " - Rejected by Elasticsearch" +
                         (type.empty() ? "" : " [error type]: " + type) + "; error: " +
                         log::quote_excerpt(error_json, 300));
    Emitter* error_label = label_emitter_ ? label_emitter_("@ERROR") : nullptr;
    if (error_label && emit_error(*error_label, c, doc)) return;
    std::string line = "{\"time\":\"";
    EventTime t = now();
    es::BulkFormatter::append_iso8601(line, t.sec, t.nsec, 0, 9);
    line += "\",\"plugin\":";
    json::append_string(line, id_);
    line += ",\"tag\":";
    json::append_string(line, c.tag);
    line += ",\"status\":" + std::to_string(status) + ",\"error\":";
    line += error_json.empty() ? "null" : error_json;
    line += ",\"action\":";
    line.append(action.empty() ? std::string_view("null") : action);
    line += ",\"record\":";
    line.append(doc.empty() ? std::string_view("null") : doc);
    line += "}\n";
    int fd = ::open(s_.dead_letter_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    bool ok = false;
    if (fd >= 0) {
      ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
      ::close(fd);
    }
    if (!ok)
      log::error("output " + id_ + ": cannot write the dead-letter file " + s_.dead_letter_path +
                 " (" + strerror(errno) + "); the record was: " + log::quote_excerpt(line, 2000));
  }

  // Re-emits a rejected document to the @ERROR label, as the plugin's emit_error_event does.
  bool emit_error(Emitter& emitter, const buffer::Chunk& c, std::string_view doc) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(doc);
    simdjson::dom::object obj;
    if (parser.parse(padded).get(obj)) return false;
    Batch batch;
    std::string tag = c.tag;
    EventTime t = now();
    for (auto field : obj) {
      std::string_view key = batch.arena.copy(field.key);
      simdjson::dom::element v = field.value;
      Value value;
      switch (v.type()) {
        case simdjson::dom::element_type::STRING:
          value = Value::of_string(batch.arena.copy(std::string_view(v)));
          break;
        case simdjson::dom::element_type::INT64: value = Value::of_int(int64_t(v)); break;
        case simdjson::dom::element_type::UINT64: value = Value::of_int(int64_t(uint64_t(v))); break;
        case simdjson::dom::element_type::DOUBLE: value = Value::of_float(double(v)); break;
        case simdjson::dom::element_type::BOOL: value = Value::of_bool(bool(v)); break;
        case simdjson::dom::element_type::NULL_VALUE: value = Value::null(); break;
        default: value = Value::of_json(batch.arena.copy(simdjson::minify(v))); break;
      }
      if (key == "@timestamp" && value.kind == ValueKind::String) {
        int64_t sec;
        uint32_t nsec;
        int32_t off;
        if (es::BulkFormatter::parse_datetime(value.text, sec, nsec, off)) t = EventTime{sec, nsec};
      }
      if (tag.empty() && key == fmt_.config().tag_key && value.kind == ValueKind::String)
        tag.assign(value.text);
      if (batch.records.empty()) batch.begin_record(t);
      batch.add_field(key, value);
    }
    if (batch.records.empty()) batch.begin_record(t);
    batch.records.back().time = t;
    if (tag.empty()) tag = "elasticsearch.error";
    batch.tag = tag;
    emitter.emit(batch);
    return true;
  }

  uv_loop_t* loop_;
  FlowControl* flow_;
  Metrics* metrics_;
  std::string id_;
  std::function<Emitter*(const std::string&)> label_emitter_;
  bool dry_run_;
  Settings s_;
  es::BulkFormatter fmt_;
  std::unique_ptr<buffer::Buffer> buffer_;
  std::unique_ptr<http::HttpClient> client_;
  std::shared_ptr<bool> alive_;
  size_t rr_ = 0;
  bool version_known_ = false;
  int version_attempts_ = 0;
  bool holding_ = false;
  bool closing_ = false;
  uv_timer_t* version_timer_ = nullptr;
  std::map<int, Counter*> item_errors_;

  Counter* m_records_;
  Counter* m_bytes_;
  Counter* m_wire_bytes_;
  Counter* m_requests_;
  Counter* m_request_failures_;
  Counter* m_retried_items_;
  Counter* m_dead_letters_;
  Counter* m_dropped_missing_id_;
  Counter* m_refused_;
};

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

PluginSpec es_spec() {
  PluginSpec s{"output", "elasticsearch",
               "Sends records to Elasticsearch with _bulk (fluent-plugin-elasticsearch 5.2.5's "
               "documents and action lines); at-least-once with <buffer> retries.",
               {},
               {"buffer"}};
  ParamSpec scheme = P("scheme", ParamType::Enum, "http", "http or https.");
  scheme.choices = {"http", "https"};
  ParamSpec wop = P("write_operation", ParamType::Enum, "index",
                    "index or create (create needs id_key or deterministic_id).");
  wop.choices = {"index", "create", "update", "upsert"};
  ParamSpec comp = P("compression_level", ParamType::Enum, "no_compression", "gzip request bodies.");
  comp.choices = {"no_compression", "best_speed", "best_compression", "default_compression"};
  s.params = {
      P("host", ParamType::String, "localhost", "Elasticsearch host."),
      P("port", ParamType::Integer, "9200", "Elasticsearch port."),
      Opt("hosts", ParamType::String,
          "host:port,host:port or URLs (https://user:pass@host:port/path); requests go round-robin, "
          "failing hosts are skipped for a while."),
      scheme,
      Opt("path", ParamType::String, "Path prefix of the REST API."),
      Opt("user", ParamType::String, "Basic auth user."),
      spec::secret("password", ParamType::String, "Basic auth password."),
      spec::secret("api_key", ParamType::String, "Sent as `Authorization: ApiKey base64(api_key)`."),
      P("ssl_verify", ParamType::Bool, "true", "Verify the server certificate and host name."),
      Opt("ca_file", ParamType::String, "CA bundle (PEM)."),
      Opt("client_cert", ParamType::String, "Client certificate (PEM)."),
      Opt("client_key", ParamType::String, "Client key (PEM)."),
      Ign("client_key_pass", ParamType::String, "Accepted; encrypted client keys are not supported."),
      Ign("ssl_version", ParamType::String, "Accepted; libcurl negotiates TLS 1.2+."),
      Ign("ssl_min_version", ParamType::String, "Accepted; ignored."),
      Ign("ssl_max_version", ParamType::String, "Accepted; ignored."),
      P("index_name", ParamType::String, "fluentd",
        "Index; ${tag}, ${tag[N]} and, with a time chunk key, strftime placeholders."),
      P("logstash_format", ParamType::Bool, "false", "Index <prefix><sep><date>, adds @timestamp."),
      P("logstash_prefix", ParamType::String, "logstash", "Index prefix (${tag} allowed)."),
      P("logstash_prefix_separator", ParamType::String, "-", "Between prefix and date."),
      P("logstash_dateformat", ParamType::String, "%Y.%m.%d", "strftime of the index date."),
      P("utc_index", ParamType::Bool, "true", "Index date in UTC (else local time)."),
      P("include_tag_key", ParamType::Bool, "false", "Add the tag to the document."),
      P("tag_key", ParamType::String, "tag", "Field name for include_tag_key."),
      P("include_timestamp", ParamType::Bool, "false", "Add @timestamp without logstash_format."),
      Opt("time_key", ParamType::String, "Field holding the time (for the index and @timestamp)."),
      Opt("time_key_format", ParamType::String, "strptime format of time_key."),
      P("time_precision", ParamType::Integer, "9", "Fraction digits of @timestamp."),
      P("time_key_exclude_timestamp", ParamType::Bool, "false", "Do not copy time_key to @timestamp."),
      Opt("id_key", ParamType::String, "Field used as the document _id."),
      P("deterministic_id", ParamType::Bool, "false",
        "sluice: _id = hash of (source stream, line offset, time), so a record re-read after a crash "
        "overwrites instead of duplicating."),
      Opt("routing_key", ParamType::String, "Field used as routing."),
      Opt("remove_keys", ParamType::String, "Comma-separated fields removed from documents."),
      Opt("target_index_key", ParamType::String, "Field holding the index (removed from documents)."),
      wop,
      P("type_name", ParamType::String, "fluentd", "_type for Elasticsearch < 7."),
      P("suppress_type_name", ParamType::Bool, "false", "_type null on Elasticsearch 7."),
      Opt("pipeline", ParamType::String, "Ingest pipeline."),
      P("request_timeout", ParamType::Duration, "5s", "Per request."),
      comp,
      P("verify_es_version_at_startup", ParamType::Bool, "true",
        "GET / for the version (sources wait until it is known)."),
      P("default_elasticsearch_version", ParamType::Integer, "5", "Version when not verified."),
      P("max_retry_get_es_version", ParamType::Integer, "15", "GET / attempts before the default."),
      P("fail_on_detecting_es_version_retry_exceed", ParamType::Bool, "true",
        "true: keep trying GET / (sources wait); false: use default_elasticsearch_version."),
      Opt("unrecoverable_error_types", ParamType::Array,
          "Item error types dead-lettered instead of retried (sluice never drops a whole chunk)."),
      P("log_es_400_reason", ParamType::Bool, "false", "Log 400 reasons at warn."),
      Opt("custom_headers", ParamType::Hash, "Extra request headers."),
      Opt("dead_letter_path", ParamType::String,
          "sluice: file (NDJSON) for rejected records when there is no @ERROR label; default "
          "<file buffer path>/dead-letter.ndjson, else /var/log/sluice/<id>.dead-letter.ndjson."),
      P("emit_error_for_missing_id", ParamType::Bool, "false",
        "Accepted; records without _id for create are dropped and counted."),
      Ign("http_backend", ParamType::String, "Accepted; sluice uses libcurl."),
      Ign("http_backend_excon_nonblock", ParamType::Bool, "Accepted; sluice never blocks."),
      Ign("reload_connections", ParamType::Bool, "Accepted; no sniffing."),
      Ign("reconnect_on_error", ParamType::Bool, "Accepted; connections are re-made on errors."),
      Ign("reload_on_failure", ParamType::Bool, "Accepted; failing hosts are skipped."),
      Ign("reload_after", ParamType::Integer, "Accepted; ignored."),
      Ign("resurrect_after", ParamType::Duration, "Accepted; ignored."),
      Ign("sniffer_class_name", ParamType::String, "Accepted; no sniffing."),
      Ign("selector_class_name", ParamType::String, "Accepted; round robin."),
      Ign("application_name", ParamType::String, "Accepted; used by ILM only."),
      Ign("template_name", ParamType::String, "Accepted; templates are not installed (yet)."),
      Ign("template_file", ParamType::String, "Accepted; templates are not installed (yet)."),
      Ign("template_overwrite", ParamType::Bool, "Accepted; ignored."),
      Ign("templates", ParamType::Hash, "Accepted; ignored."),
      Ign("customize_template", ParamType::Hash, "Accepted; ignored."),
      Ign("max_retry_putting_template", ParamType::Integer, "Accepted; ignored."),
      Ign("fail_on_putting_template_retry_exceed", ParamType::Bool, "Accepted; ignored."),
      Ign("use_legacy_template", ParamType::Bool, "Accepted; ignored."),
      Ign("enable_ilm", ParamType::Bool, "Accepted; ILM setup is not done (yet)."),
      Ign("ilm_policy_id", ParamType::String, "Accepted; ignored."),
      Ign("ilm_policy", ParamType::Hash, "Accepted; ignored."),
      Ign("ilm_policies", ParamType::Hash, "Accepted; ignored."),
      Ign("ilm_policy_overwrite", ParamType::Bool, "Accepted; ignored."),
      Ign("rollover_index", ParamType::Bool, "Accepted; ignored."),
      Ign("deflector_alias", ParamType::String, "Accepted; ignored."),
      Ign("index_date_pattern", ParamType::String, "Accepted; ignored."),
      Ign("with_transporter_log", ParamType::Bool, "Accepted; ignored."),
      Ign("content_type", ParamType::String, "Accepted; bulk bodies are application/x-ndjson."),
      Ign("validate_client_version", ParamType::Bool, "Accepted; ignored."),
      Ign("prefer_oj_serializer", ParamType::Bool, "Accepted; JSON is written Oj-style."),
      Ign("retry_tag", ParamType::String, "Accepted; failed items are retried from the buffer."),
      Ign("time_parse_error_tag", ParamType::String, "Accepted; ignored."),
      Ign("bulk_message_request_threshold", ParamType::Size,
          "Accepted; one request per chunk (use chunk_limit_size)."),
      Ign("include_index_in_url", ParamType::Bool, "Accepted; _index is always in the action line."),
      Ign("flatten_hashes", ParamType::Bool, "Accepted; not supported."),
      Ign("flatten_hashes_separator", ParamType::String, "Accepted; ignored."),
      Ign("target_type_key", ParamType::String, "Accepted; ignored (types are gone in ES 7+)."),
      Ign("parent_key", ParamType::String, "Accepted; ignored."),
      Ign("ignore_exceptions", ParamType::Array, "Accepted; ignored."),
      Ign("exception_backup", ParamType::Bool, "Accepted; ignored."),
      Ign("suppress_doc_wrap", ParamType::Bool, "Accepted; ignored (update not supported)."),
      Ign("remove_keys_on_update", ParamType::String, "Accepted; ignored."),
      Ign("remove_keys_on_update_key", ParamType::String, "Accepted; ignored."),
      Ign("truncate_caches_interval", ParamType::Duration, "Accepted; ignored."),
      Ign("catch_transport_exception_on_retry", ParamType::Bool, "Accepted; ignored."),
      Ign("target_index_affinity", ParamType::Bool, "Accepted; ignored."),
      Ign("cloud_id", ParamType::String, "Accepted; not supported (use hosts)."),
      Ign("cloud_auth", ParamType::String, "Accepted; not supported."),
      Ign("ssl_verify_hostname", ParamType::Bool, "Accepted; ssl_verify covers it."),
  };
  return s;
}

std::unique_ptr<Output> make_es(PluginContext& ctx, const Params& p) {
  const ConfigSection& section = p.section();
  es::FormatConfig f;
  f.logstash_format = p.flag("logstash_format");
  f.logstash_prefix = p.str("logstash_prefix");
  f.logstash_prefix_separator = p.str("logstash_prefix_separator");
  f.logstash_dateformat = p.str("logstash_dateformat");
  f.utc_index = p.flag("utc_index");
  f.index_name = p.str("index_name");
  f.include_timestamp = p.flag("include_timestamp");
  f.time_key = p.str("time_key");
  f.time_key_format = p.str("time_key_format");
  f.time_precision = int(p.integer("time_precision"));
  f.time_key_exclude_timestamp = p.flag("time_key_exclude_timestamp");
  f.include_tag_key = p.flag("include_tag_key");
  f.tag_key = p.str("tag_key");
  f.id_key = p.str("id_key");
  f.routing_key = p.str("routing_key");
  f.pipeline = p.str("pipeline");
  if (p.has("remove_keys")) {
    for (auto& k : p.list("remove_keys")) f.remove_keys.push_back(trim(k));
  }
  f.target_index_key = p.str("target_index_key");
  f.write_operation = p.str("write_operation");
  if (f.write_operation == "update" || f.write_operation == "upsert")
    throw ConfigException(p.pos("write_operation"),
                          "write_operation " + f.write_operation + " is not supported (index, create)");
  f.type_name = p.str("type_name");
  f.suppress_type_name = p.flag("suppress_type_name");
  f.deterministic_id = p.flag("deterministic_id");
  if (f.id_key.find('.') != std::string::npos || f.id_key.rfind("$", 0) == 0)
    throw ConfigException(p.pos("id_key"), "id_key: nested record accessors are not supported");

  const ConfigSection* bsec = section.child("buffer");
  if (bsec && ctx.errors) ctx.check_section(*bsec, "buffer", "memory");
  buffer::Config::Defaults bd;
  bd.type = "memory";
  bd.chunk_keys = {"tag"};  // the plugin's config_set_default
  bd.timekey_use_utc = true;
  buffer::Config bc = buffer::Config::parse(bsec, bd, ctx.id);
  f.time_chunk_key = bc.key_time;
  f.timekey = bc.timekey;
  f.timekey_use_utc = bc.timekey_use_utc;
  if (f.index_name.find('%') != std::string::npos && !bc.key_time && !f.logstash_format)
    throw ConfigException(p.pos("index_name"),
                          "index_name '" + f.index_name +
                              "' has timestamp placeholders, but chunk key 'time' is not configured");

  Settings s;
  std::string scheme = p.str("scheme");
  int port = int(p.integer("port"));
  if (p.has("hosts") && !p.str("hosts").empty()) {
    s.hosts = parse_hosts(p.str("hosts"), scheme, port, p.pos("hosts"));
  } else {
    Host h;
    h.scheme = scheme;
    h.host = p.str("host");
    h.port = port;
    s.hosts.push_back(h);
  }
  for (auto& h : s.hosts) {
    if (h.user.empty() && p.has("user")) {
      h.user = p.str("user");
      h.password = p.str("password");
    }
    if (h.path.empty() && p.has("path")) h.path = p.str("path");
  }
  if (p.has("user") && !p.has("password"))
    throw ConfigException(section.pos, "`password` must be present if `user` is present");
  s.api_key = p.str("api_key");
  s.tls.verify_peer = s.tls.verify_host = p.flag("ssl_verify");
  s.tls.ca_file = p.str("ca_file");
  s.tls.client_cert = p.str("client_cert");
  s.tls.client_key = p.str("client_key");
  s.request_timeout_ms = long(p.seconds("request_timeout") * 1000);
  std::string level = p.str("compression_level");
  s.compression_level = level == "best_speed" ? 1 : level == "best_compression" ? 9
                        : level == "default_compression"                     ? 6
                                                                              : 0;
  s.verify_version = p.flag("verify_es_version_at_startup");
  s.default_version = int(p.integer("default_elasticsearch_version"));
  s.max_retry_get_es_version = int(p.integer("max_retry_get_es_version"));
  s.fail_on_detecting_version = p.flag("fail_on_detecting_es_version_retry_exceed");
  if (p.has("unrecoverable_error_types")) s.unrecoverable_error_types = p.list("unrecoverable_error_types");
  s.log_es_400_reason = p.flag("log_es_400_reason");
  if (p.has("custom_headers"))
    for (auto& kv : p.hash("custom_headers")) s.custom_headers.push_back(kv);
  s.dead_letter_path = p.str("dead_letter_path");
  if (s.dead_letter_path.empty())
    s.dead_letter_path = bc.type == buffer::Config::Type::File
                             ? bc.path + "/dead-letter.ndjson"
                             : "/var/log/sluice/" + ctx.id + ".dead-letter.ndjson";
  return std::make_unique<ElasticsearchOutput>(ctx, std::move(s), std::move(f), std::move(bc));
}

}  // namespace

void register_out_elasticsearch(Registry& registry) { registry.add_output(es_spec(), make_es); }

}  // namespace sluice

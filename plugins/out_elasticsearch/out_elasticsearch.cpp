// `<match> @type elasticsearch` and `@type opensearch`: fluent-plugin-elasticsearch 5.2.5's (and
// fluent-plugin-opensearch 1.1.5's) documents and action lines, formatted into buffer chunks at
// write() time, sent with `_bulk` over libcurl multi on the loop, responses read item by item
// (see README.md).
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "buffer/buffer.h"
#include "core/log.h"
#include "core/registry.h"
#include "data_stream.h"
#include "es_config.h"
#include "es_format.h"
#include "format/base64.h"
#include "es_response.h"
#include "format/json.h"
#include "format/json_dom_fields.h"
#include "format/time.h"
#include "http/aws_credentials.h"
#include "http/aws_sigv4.h"
#include "http/buffered_sender.h"
#include "http/http_client.h"

namespace sluice {

namespace {

using es::Host;
using es::Settings;

class ElasticsearchOutput : public Output {
 public:
  ElasticsearchOutput(PluginContext& ctx, Settings settings, es::FormatConfig fmt,
                      buffer::Config bconf)
      : loop_(ctx.loop),
        metrics_(ctx.metrics),
        id_(ctx.id),
        label_emitter_(ctx.label_emitter),
        dry_run_(ctx.dry_run),
        s_(std::move(settings)),
        fmt_(std::move(fmt)),
        sender_(ctx, std::move(bconf), hooks()) {
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
    if (s_.aws) aws_ = std::make_unique<http::aws::AwsCredentialsProvider>(loop_, s_.aws->credentials);
    if (!s_.verify_version) set_version(s_.default_version, false);
  }

  void start() override {
    if (dry_run_) return;
    sender_.start_client(http::HttpClient::Options::for_output(buffer().config().flush_thread_count));
    if (aws_) log::info("output " + id_ + ": signing requests with AWS credentials from " + aws_->source());
    if (version_known_ && !static_data_stream()) {
      sender_.ready();
      return;
    }
    // Action lines depend on the server's major version, and records are formatted when they
    // arrive: the sources wait until it is known (and a data stream set up, as the Ruby plugin
    // does before it starts).
    sender_.hold_sources();
    if (version_known_) set_up_static_stream();
    else detect_version();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer().refuses(batch.records.size(), *m_refused_)) return;
    fmt_.begin_batch(batch);
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const Record& r = batch.records[i];
      std::string_view index = fmt_.index_for(batch, r);
      std::string& out = buffer().begin_record(batch.tag, r.time, index, batch.claim);
      size_t last_start = 0;
      if (const size_t n = fmt_.append_run(out, batch, i, index, buffer().run_limit(), last_start)) {
        buffer().end_records(n, last_start);
        i += n - 1;
      } else if (fmt_.append(out, batch, r, index)) {
        buffer().end_record();
      } else {
        buffer().cancel_record();
        bump(*m_dropped_missing_id_);
        log::warn_once("es.missing_id." + id_,
                       "output " + id_ + ": dropping records without an '_id' field (write_operation "
                       "create needs id_key or deterministic_id)");
      }
    }
    buffer().batch_done();
  }

  void close(std::function<void()> done) override {
    closing_ = true;  // a version probe's answer is ignored from now on
    sender_.close(std::move(done));
  }

 private:
  buffer::Buffer::Hooks hooks() {
    buffer::Buffer::Hooks h;
    h.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    h.give_up = [this](const buffer::Chunk& c, const std::string& why) { give_up(c, why); };
    return h;
  }
  buffer::Buffer& buffer() { return sender_.buffer(); }

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

  std::string product() const { return std::string(s_.dialect->product); }

  void set_version(int major, bool log_it) {
    version_known_ = true;
    auto& c = fmt_.config();
    fmt_.set_major_version(es::action_line_version(*s_.dialect, major, c.suppress_type_name));
    if (!log_it || s_.dialect->opensearch) return;
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
    std::weak_ptr<bool> alive = sender_.alive();
    Host* hp = &h;
    send(std::move(req), {}, [this, alive, hp](http::HttpResponse r) {
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
          if (!s_.dialect->opensearch && (major > 7 || (major == 7 && minor >= 14)) &&
              (!product || *product != "Elasticsearch"))
            log::warn("output " + id_ + ": the server says version " + std::string(number) +
                      " but sends no `X-elastic-product: Elasticsearch` header; "
                      "it may not be Elasticsearch");
        }
      }
      if (problem.empty()) {
        log::info("Connection opened to " + product() + " cluster => " + hp->describe() +
                  " (version " + std::to_string(major) + ")");
        version_ready(major, true);
        return;
      }
      ++version_attempts_;
      if (version_attempts_ > s_.max_retry_get_es_version && !s_.fail_on_detecting_version) {
        log::warn("output " + id_ + ": could not get the " + product() + " version (" + problem +
                  "); assuming " + std::to_string(s_.default_version));
        version_ready(s_.default_version, true);
        return;
      }
      double wait = std::min(30.0, std::pow(2.0, std::min(version_attempts_ - 1, 5)));
      log::warn("output " + id_ + ": cannot reach " + product() + " at " + hp->describe() + " (" +
                problem + "); sources wait; retrying in " + std::to_string(int(wait)) + "s");
      sender_.retry_in(wait, [this] { detect_version(); });
    });
  }

  void version_ready(int major, bool log_it) {
    set_version(major, log_it);
    if (static_data_stream()) set_up_static_stream();
    else sender_.ready();
  }

  // ---- sending ----

  // Sends `req`, whose body bytes are `payload`, signed when the output talks to AWS.
  void send(http::HttpRequest req, std::string_view payload, http::ResponseCallback done) {
    if (!aws_) {
      sender_.client().send(std::move(req), std::move(done));
      return;
    }
    aws_->send_signed(sender_.client(), std::move(req), payload, {s_.aws->credentials.region, s_.aws->service, true},
                      std::move(done));
  }

  // ---- data streams ----

  bool static_data_stream() const { return s_.data_stream && !s_.data_stream->placeholders; }

  void set_up_static_stream() {
    if (closing_) return;
    const es::DataStreamSettings& ds = *s_.data_stream;
    set_up_stream(es::data_stream_names(ds, ds.name, {}), [this](const std::string& problem) {
      if (closing_) return;
      if (problem.empty()) {
        sender_.ready();
        return;
      }
      const double wait = std::min(30.0, std::pow(2.0, std::min(stream_attempts_++, 5)));
      log::warn("output " + id_ + ": could not set up the data stream <" + s_.data_stream->name + "> (" + problem +
                "); sources wait; retrying in " + std::to_string(int(wait)) + "s");
      sender_.retry_in(wait, [this] { set_up_static_stream(); });
    });
  }

  void set_up_stream(es::DataStreamNames names, std::function<void(const std::string&)> done) {
    std::weak_ptr<bool> alive = sender_.alive();
    auto request = [this, alive](const char* method, const std::string& path, std::string body,
                                 std::function<void(const http::HttpResponse&)> then) {
      Host& h = pick_host();
      http::HttpRequest req = base_request(h);
      req.method = method;
      req.url = h.base() + path;
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = std::move(body);  // what a signature hashes when there is one
      send(std::move(req), {}, [alive, then = std::move(then)](http::HttpResponse r) {
        if (auto a = alive.lock(); a && *a) then(r);
      });
    };
    es::set_up_data_stream(*s_.data_stream, s_.dialect->opensearch, std::move(names), std::move(request),
                           std::move(done));
  }

  // A chunk whose stream name came from placeholders: its stream is set up before its first bulk
  // request (out_elasticsearch_data_stream.rb's write).
  void send_to_new_stream(buffer::Chunk& c, buffer::SendDone done) {
    if (std::string problem = es::data_stream_name_problem("data_stream_name", c.variant); !problem.empty()) {
      done(buffer::SendResult::unrecoverable("Failed to create data stream: <" + c.variant + "> " + problem));
      return;
    }
    auto names = es::data_stream_names(*s_.data_stream, c.variant, c.tag);
    set_up_stream(std::move(names), [this, &c, done = std::move(done)](const std::string& problem) mutable {
      if (!problem.empty()) {
        done(buffer::SendResult::retry("Failed to create data stream: <" + c.variant + "> " + problem));
        return;
      }
      ready_streams_.insert(c.variant);
      send_chunk(c, std::move(done));
    });
  }

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    if (s_.data_stream && s_.data_stream->placeholders && !ready_streams_.count(c.variant)) {
      send_to_new_stream(c, std::move(done));
      return;
    }
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
    // Data streams: the stream is the request's index, as the Ruby plugin's bulk(index: ...).
    req.url = s_.data_stream ? h.base() + "/" + http::aws::uri_encode(job->chunk->variant, false) + "/_bulk"
                             : h.base() + "/_bulk";
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
    std::weak_ptr<bool> alive = sender_.alive();
    Host* hp = &h;
    const std::string_view payload = req.body_view.empty() ? std::string_view(req.body) : req.body_view;
    send(std::move(req), payload, [this, alive, job, hp, b = b, e = e, items](http::HttpResponse r) {
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
      whole_failure(job, "could not push logs to " + product() + " cluster (" + host->describe() +
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
      whole_failure(job, product() + " answered HTTP " + std::to_string(r.status) + ": " +
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
                     "output " + id_ + ": " + std::to_string(status) + " - Rejected by " + product() +
                         (type.empty() ? "" : " [error type]: " + type) + "; error: " +
                         log::quote_excerpt(error_json, 300));
    Emitter* error_label =
        label_emitter_ && s_.emit_error_label_event ? label_emitter_("@ERROR") : nullptr;
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
    const Record& r = batch.begin_record(t);
    add_dom_fields(batch, obj);
    for (const Field* f = batch.begin(r); f != batch.end(r); ++f) {
      if (f->value.kind != ValueKind::String) continue;
      if (f->key == "@timestamp") {
        int64_t sec;
        uint32_t nsec;
        int32_t off;
        if (es::BulkFormatter::parse_datetime(f->value.text, sec, nsec, off)) t = EventTime{sec, nsec};
      }
      if (tag.empty() && f->key == fmt_.config().tag_key) tag.assign(f->value.text);
    }
    batch.records.back().time = t;
    if (tag.empty()) tag = std::string(s_.dialect->type) + ".error";
    batch.tag = tag;
    emitter.emit(batch);
    return true;
  }

  uv_loop_t* loop_;
  Metrics* metrics_;
  std::string id_;
  std::function<Emitter*(const std::string&)> label_emitter_;
  bool dry_run_;
  Settings s_;
  es::BulkFormatter fmt_;
  std::unique_ptr<http::aws::AwsCredentialsProvider> aws_;
  size_t rr_ = 0;
  bool version_known_ = false;
  int version_attempts_ = 0;
  bool closing_ = false;
  int stream_attempts_ = 0;
  std::set<std::string> ready_streams_;  // data streams set up (names from placeholders)
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
  // Last: destroyed first, before what its buffer's hooks use.
  http::BufferedSender sender_;
};

template <const es::Dialect& dialect>
std::unique_ptr<Output> make_output(PluginContext& ctx, const Params& p) {
  es::OutputConfig c = es::parse_config(ctx, p, dialect);
  return std::make_unique<ElasticsearchOutput>(ctx, std::move(c.settings), std::move(c.format),
                                               std::move(c.buffer));
}

}  // namespace

// fluent-plugin-opensearch is a fork of fluent-plugin-elasticsearch that kept its documents,
// bulk protocol and error handling: one output speaks both, with each plugin's parameters.
void register_out_elasticsearch(Registry& registry) {
  registry.add_output(es::plugin_spec(es::kElasticsearch), make_output<es::kElasticsearch>);
  registry.add_output(es::plugin_spec(es::kOpenSearch), make_output<es::kOpenSearch>);
  registry.add_output(es::plugin_spec(es::kElasticsearchDataStream), make_output<es::kElasticsearchDataStream>);
  registry.add_output(es::plugin_spec(es::kOpenSearchDataStream), make_output<es::kOpenSearchDataStream>);
}

}  // namespace sluice

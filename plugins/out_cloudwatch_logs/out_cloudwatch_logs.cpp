// `<match> @type cloudwatch_logs`: fluent-plugin-cloudwatch-logs 0.15's out_cloudwatch_logs.rb.
// Records become log events at write() time (cwl_format.h) in buffer chunks; a chunk is sent as
// the plugin's write sends it: per log stream (first-seen order, `concurrency` at once), the group
// and stream found with DescribeLogGroups / DescribeLogStreams or created (auto_create_stream),
// then PutLogEvents batches (cwl_events.h), one at a time per stream. Requests are JSON 1.1
// (`X-Amz-Target: Logs_20140328.<Operation>`) signed with SigV4 for service `logs`.
//
// Failures: a ThrottlingException is retried in place after put_log_events_retry_wait * 2^n, as
// the plugin does; 5xx, connection errors and throttling past the limit send the chunk back to
// <buffer>'s retries without the events already accepted (SendStatus::Partial), so a retry
// doubles nothing; any other error is unrecoverable (the chunk goes to <secondary>, else to the
// backup file). See README.md.
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>

#include "buffer/buffer.h"
#include "buffer/chunk_placeholders.h"
#include "core/log.h"
#include "core/registry.h"
#include "cwl_config.h"
#include "cwl_events.h"
#include "cwl_format.h"
#include "format/json.h"
#include "format/record_inject.h"
#include "http/aws_credentials.h"
#include "http/aws_sigv4.h"
#include "http/buffered_sender.h"
#include "http/http_client.h"

namespace sluice {

namespace {

using cwl::ApiError;
using cwl::Settings;

// One attempt at sending a chunk.
struct Job {
  buffer::Chunk* chunk = nullptr;
  buffer::SendDone done;
  std::vector<cwl::Event> events;
  std::vector<cwl::Stream> streams;
  struct Progress {
    size_t next = 0;     // events of the stream accepted (or skipped)
    int retries = 0;     // retry_count of the request being sent
    std::string token;   // sequence token for the next PutLogEvents
    std::string page;    // nextToken of the Describe* being paged
  };
  std::vector<Progress> progress;
  std::vector<std::pair<std::string, std::string>> tags;
  size_t next_stream = 0;
  int active = 0;
  bool failed = false;
  buffer::SendResult failure;
  uint64_t accepted = 0;
};
using JobPtr = std::shared_ptr<Job>;

// A wait before a request is sent again (a throttled PutLogEvents, a sequence token fixed).
struct Timer {
  uv_timer_t handle;
  std::function<void()> f;
  std::set<Timer*>* pending;
  void close() {
    uv_timer_stop(&handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle),
             [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
  }
};

bool retryable(const http::HttpResponse& r, const ApiError& e) {
  return !r.error.empty() || r.status >= 500 || r.status == 429 || e.type == "ThrottlingException" ||
         e.type == "ServiceUnavailableException" || e.type == "RequestTimeoutException";
}

std::string describe(const http::HttpResponse& r, const ApiError& e) {
  if (!r.error.empty()) return r.error;
  std::string out = "HTTP " + std::to_string(r.status);
  if (!e.type.empty()) out += " " + e.type;
  if (!e.message.empty()) out += ": " + e.message;
  return out;
}

class CloudWatchLogsOutput : public Output {
 public:
  CloudWatchLogsOutput(PluginContext& ctx, cwl::OutputConfig config)
      : loop_(ctx.loop),
        id_(ctx.id),
        dry_run_(ctx.dry_run),
        s_(std::move(config.settings)),
        fmt_(std::move(config.format_settings), std::move(config.format)),
        inject_(std::move(config.inject)),
        record_keys_(std::move(config.record_keys)),
        keys_(config.buffer),
        rng_(std::random_device{}()),
        max_requests_(size_t(std::max(1, config.buffer.flush_thread_count)) * size_t(s_.concurrency) + 1),
        sender_(ctx, std::move(config.buffer), hooks()) {
    auto C = [&](const char* n) { return &ctx.counter(n); };
    m_records_ = C("sluice_output_records_total");
    m_bytes_ = C("sluice_output_bytes_total");
    m_wire_bytes_ = C("sluice_output_wire_bytes_total");
    m_requests_ = C("sluice_cloudwatch_logs_requests_total");
    m_failures_ = C("sluice_cloudwatch_logs_request_failures_total");
    m_throttled_ = C("sluice_cloudwatch_logs_throttled_total");
    m_skipped_ = C("sluice_cloudwatch_logs_skipped_records_total");
    m_refused_ = C("sluice_output_refused_records_total");
    credentials_ = std::make_unique<http::aws::AwsCredentialsProvider>(loop_, s_.credentials);
  }

  void start() override {
    if (dry_run_) return;
    http::HttpClient::Options o;
    o.max_concurrent = max_requests_;
    o.pool_size = max_requests_;
    o.user_agent = std::string("sluice/") + SLUICE_VERSION;
    sender_.start_client(o);
    log::info("output " + id_ + ": CloudWatch Logs at " + s_.url + " (" + s_.region +
              "), signing with AWS credentials from " + credentials_->source());
    buffer().start();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    if (buffer().refuses(batch.records.size(), *m_refused_)) return;
    // out_cloudwatch_logs.rb's format: inject_values_to_record; the rest of its write is done here
    // too, once per record.
    const Batch& records = inject_.active() ? inject_.apply(batch) : batch;
    for (const Record& r : records.records) {
      variant_.clear();
      for (const std::string& key : record_keys_) {
        scratch_.clear();
        if (const Value* v = records.find(r, key)) append_ruby_to_s(scratch_, *v);
        buffer::append_key_value(variant_, scratch_);
      }
      std::string& out = buffer().begin_record(batch.tag, r.time, variant_, batch.claim);
      const auto outcome = fmt_.append(out, records, r);
      if (outcome == cwl::EventFormatter::Outcome::Entry) {
        buffer().end_record();
        continue;
      }
      buffer().cancel_record();
      skipped(outcome);
    }
    buffer().batch_done();
  }

  void close(std::function<void()> done) override { sender_.close(std::move(done)); }

 private:
  buffer::Buffer::Hooks hooks() {
    buffer::Buffer::Hooks h;
    h.send = [this](buffer::Chunk& c, buffer::SendDone done) { send_chunk(c, std::move(done)); };
    h.give_up = [this](const buffer::Chunk& c, const std::string& why) {
      log::error("output " + id_ + ": gave up on a chunk of " + std::to_string(c.records) + " events: " + why +
                 "; add a <secondary> (e.g. @type secondary_file) to keep such chunks");
    };
    h.abort = [this] { close_timers(); };
    // A <secondary> gets one JSON line per event, not sluice's framing.
    h.secondary_payload = [this](const buffer::Chunk& c, std::string& out) { return secondary_lines(c, out); };
    return h;
  }
  buffer::Buffer& buffer() { return sender_.buffer(); }

  // ---- records the plugin skips ----

  void skipped(cwl::EventFormatter::Outcome outcome) {
    bump(*m_skipped_);
    using O = cwl::EventFormatter::Outcome;
    const auto& f = fmt_.settings();
    std::string why;
    if (outcome == O::NoStream)
      why = "stream_name is nil (group_name=" + fmt_.group() + ")";
    else if (outcome == O::NoGroup)
      why = "group_name is nil (no " + f.group_key + " in the record)";
    else {
      std::string keys;
      for (auto& k : f.message_keys) keys += (keys.empty() ? "" : ",") + k;
      why = "Within specified message_key(s): (" + keys + ") do not have non-empty record. Skip.";
    }
    // The plugin warns every time; here once, then counted (sluice_cloudwatch_logs_skipped_records_total).
    log::warn_once("cwl.skip." + id_ + "." + std::to_string(int(outcome)), "output " + id_ + ": " + why +
                                                " (such records are skipped and counted; this is said once)");
  }

  // ---- requests ----

  void call(const char* operation, std::string body, std::function<void(const http::HttpResponse&, const ApiError*)> cb) {
    http::HttpRequest req;
    req.method = "POST";
    req.url = s_.url;
    req.tls = s_.tls;
    req.proxy = s_.proxy;
    req.timeout_ms = s_.request_timeout_ms;
    req.max_response_bytes = 4u << 20;
    req.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
    req.headers.emplace_back("X-Amz-Target", std::string("Logs_20140328.") + operation);
    req.body = std::move(body);
    bump(*m_requests_);
    bump(*m_wire_bytes_, req.body.size());
    http::aws::SignOptions o{s_.region, "logs", true};
    std::weak_ptr<bool> alive = sender_.alive();
    credentials_->send_signed(sender_.client(), std::move(req), "", o, [this, alive, cb = std::move(cb)](http::HttpResponse r) {
      auto a = alive.lock();
      if (!a || !*a) return;
      if (r.ok()) return cb(r, nullptr);
      bump(*m_failures_);
      ApiError e = r.error.empty() ? cwl::parse_error(r.body, r.header("x-amzn-ErrorType")) : ApiError{};
      cb(r, &e);
    });
  }

  // Runs `f` after `seconds` on the loop (unless aborted first).
  void after(double seconds, std::function<void()> f) {
    auto* t = new Timer{{}, std::move(f), &timers_};
    uv_timer_init(loop_, &t->handle);
    t->handle.data = t;
    timers_.insert(t);
    uv_timer_start(
        &t->handle,
        [](uv_timer_t* h) {
          auto* t = static_cast<Timer*>(h->data);
          t->pending->erase(t);
          auto f = std::move(t->f);
          t->close();
          f();
        },
        uint64_t(std::max(0.0, seconds) * 1000), 0);
  }

  void close_timers() {
    for (Timer* t : timers_) t->close();
    timers_.clear();
  }

  // ---- chunks ----

  std::string expand(const std::string& text, const buffer::Chunk& c) const {
    return buffer::expand_placeholders(text, keys_, c);
  }

  void send_chunk(buffer::Chunk& c, buffer::SendDone done) {
    auto job = std::make_shared<Job>();
    job->chunk = &c;
    job->done = std::move(done);
    if (!cwl::read_entries(c.payload, job->events))
      return finish_now(job, buffer::SendResult::unrecoverable("the chunk is damaged (not a sequence of events)"));
    const std::string group = expand(s_.group_template, c), stream = expand(s_.stream_template, c);
    job->streams = cwl::group_streams(job->events, group, stream);
    // put_events_by_chunk raises TooLargeEventError (an UnrecoverableError) for such an event.
    if (const cwl::Event* big = cwl::too_large_event(job->events))
      return finish_now(job, buffer::SendResult::unrecoverable(
                                 "Log event in " + std::string(big->group.empty() ? group : big->group) +
                                 " is discarded because it is too large: " + std::to_string(big->bytes()) +
                                 " bytes exceeds limit of " + std::to_string(cwl::kMaxEventBytes)));
    for (auto& [k, v] : s_.group_tags) job->tags.emplace_back(expand(k, c), expand(v, c));
    job->progress.resize(job->streams.size());
    pump(job);
  }

  void finish_now(const JobPtr& job, buffer::SendResult r) {
    auto done = std::move(job->done);
    done(std::move(r));
  }

  void pump(const JobPtr& job) {
    while (!job->failed && job->active < s_.concurrency && job->next_stream < job->streams.size()) {
      const size_t k = job->next_stream++;
      ++job->active;
      ensure_group(job, k);
    }
    if (job->active == 0 && (job->failed || job->next_stream == job->streams.size())) finish(job);
  }

  void stream_done(const JobPtr& job) {
    --job->active;
    pump(job);
  }

  void fail(const JobPtr& job, buffer::SendResult r) {
    if (!job->failed) {
      job->failed = true;
      job->failure = std::move(r);
    }
    stream_done(job);
  }

  void fail_with(const JobPtr& job, const char* what, const http::HttpResponse& r, const ApiError& e) {
    const std::string why = std::string(what) + ": " + describe(r, e);
    fail(job, retryable(r, e) ? buffer::SendResult::retry(why) : buffer::SendResult::unrecoverable(why));
  }

  void finish(const JobPtr& job) {
    buffer::Chunk& c = *job->chunk;
    if (!job->failed) {
      bump(*m_records_, job->accepted);
      bump(*m_bytes_, c.payload.size());
      return finish_now(job, buffer::SendResult::success());
    }
    bump(*m_records_, job->accepted);
    if (job->failure.status != buffer::SendStatus::Retry || !progress_made(job))
      return finish_now(job, std::move(job->failure));
    // The events not yet accepted, for the next attempt.
    std::string rest;
    uint64_t n = 0;
    for (size_t k = 0; k < job->streams.size(); ++k) {
      const auto& events = job->streams[k].events;
      for (size_t i = job->progress[k].next; i < events.size(); ++i, ++n) rest.append(events[i]->raw);
    }
    finish_now(job, buffer::SendResult::partial(std::move(rest), n, job->failure.reason));
  }

  bool progress_made(const JobPtr& job) const {
    for (size_t k = 0; k < job->streams.size(); ++k)
      if (job->progress[k].next > 0) return true;
    return false;
  }

  // Leaves a stream's events out: the plugin's `next` for a group or stream that does not exist.
  void skip_stream(const JobPtr& job, size_t k, const std::string& why) {
    auto& st = job->progress[k];
    const size_t n = job->streams[k].events.size() - st.next;
    st.next = job->streams[k].events.size();
    bump(*m_skipped_, n);
    log::warn("output " + id_ + ": " + why + "; " + std::to_string(n) + " events not sent");
    stream_done(job);
  }

  // ---- log groups ----

  void ensure_group(const JobPtr& job, size_t k) {
    const std::string& group = job->streams[k].group;
    if (tokens_.count(group)) return ensure_stream(job, k);
    describe_groups(job, k);
  }

  void describe_groups(const JobPtr& job, size_t k) {
    const std::string& group = job->streams[k].group;
    call("DescribeLogGroups", cwl::describe_log_groups_body(group, job->progress[k].page),
         [this, job, k](const http::HttpResponse& r, const ApiError* e) {
           if (e) return fail_with(job, "DescribeLogGroups", r, *e);
           const std::string& group = job->streams[k].group;
           cwl::DescribePage page;
           if (!cwl::parse_describe(r.body, "logGroups", "logGroupName", group, page))
             return fail(job, buffer::SendResult::retry("DescribeLogGroups: the answer is not JSON"));
           job->progress[k].page = page.next_token;
           if (page.found) {
             job->progress[k].page.clear();
             tokens_[group];
             return ensure_stream(job, k);
           }
           if (!page.next_token.empty()) return describe_groups(job, k);
           if (!s_.auto_create_stream) return skip_stream(job, k, "Log group '" + group + "' does not exist");
           create_group(job, k);
         });
  }

  void create_group(const JobPtr& job, size_t k) {
    const std::string& group = job->streams[k].group;
    call("CreateLogGroup", cwl::create_log_group_body(group, job->tags),
         [this, job, k](const http::HttpResponse& r, const ApiError* e) {
           const std::string& group = job->streams[k].group;
           if (e && e->type == "ResourceAlreadyExistsException") {
             log::debug("Log group '" + group + "' already exists");
             tokens_[group];
             return ensure_stream(job, k);
           }
           if (e) return fail_with(job, "CreateLogGroup", r, *e);
           log::info("output " + id_ + ": created log group " + group);
           if (s_.retention_in_days <= 0) {
             tokens_[group];
             return ensure_stream(job, k);
           }
           put_retention(job, k);
         });
  }

  void put_retention(const JobPtr& job, size_t k) {
    call("PutRetentionPolicy", cwl::put_retention_policy_body(job->streams[k].group, s_.retention_in_days),
         [this, job, k](const http::HttpResponse& r, const ApiError* e) {
           const std::string& group = job->streams[k].group;
           if (e && e->type != "InvalidParameterException") return fail_with(job, "PutRetentionPolicy", r, *e);
           if (e)
             log::warn("output " + id_ + ": failed to set retention policy for Log group '" + group +
                       "' with error " + describe(r, *e));
           tokens_[group];
           ensure_stream(job, k);
         });
  }

  // ---- log streams ----

  void ensure_stream(const JobPtr& job, size_t k) {
    const auto& s = job->streams[k];
    auto& known = tokens_[s.group];
    if (auto it = known.find(s.stream); it != known.end()) {
      job->progress[k].token = it->second;
      return put_next(job, k);
    }
    describe_streams(job, k);
  }

  void describe_streams(const JobPtr& job, size_t k) {
    const auto& s = job->streams[k];
    call("DescribeLogStreams", cwl::describe_log_streams_body(s.group, s.stream, job->progress[k].page),
         [this, job, k](const http::HttpResponse& r, const ApiError* e) {
           const auto& s = job->streams[k];
           if (e && e->type == "ResourceNotFoundException") tokens_.erase(s.group);  // deleted since
           if (e) return fail_with(job, "DescribeLogStreams", r, *e);
           cwl::DescribePage page;
           if (!cwl::parse_describe(r.body, "logStreams", "logStreamName", s.stream, page))
             return fail(job, buffer::SendResult::retry("DescribeLogStreams: the answer is not JSON"));
           job->progress[k].page = page.next_token;
           if (page.found) {
             job->progress[k].page.clear();
             tokens_[s.group][s.stream] = page.upload_sequence_token;
             job->progress[k].token = page.upload_sequence_token;
             return put_next(job, k);
           }
           if (!page.next_token.empty()) return describe_streams(job, k);
           if (!s_.auto_create_stream) return skip_stream(job, k, "Log stream '" + s.stream + "' does not exist");
           create_stream(job, k, [this, job, k] { put_next(job, k); });
         });
  }

  void create_stream(const JobPtr& job, size_t k, std::function<void()> then) {
    const auto& s = job->streams[k];
    call("CreateLogStream", cwl::create_log_stream_body(s.group, s.stream),
         [this, job, k, then = std::move(then)](const http::HttpResponse& r, const ApiError* e) {
           const auto& s = job->streams[k];
           if (e && e->type == "ResourceNotFoundException") tokens_.erase(s.group);
           if (e && e->type != "ResourceAlreadyExistsException") return fail_with(job, "CreateLogStream", r, *e);
           if (e) log::debug("Log stream '" + s.stream + "' already exists");
           else log::info("output " + id_ + ": created log stream " + s.group + " / " + s.stream);
           tokens_[s.group][s.stream].clear();
           job->progress[k].token.clear();
           then();
         });
  }

  // ---- events ----

  void put_next(const JobPtr& job, size_t k) {
    const auto& s = job->streams[k];
    auto& st = job->progress[k];
    if (st.next >= s.events.size() || job->failed) return stream_done(job);
    size_t bytes = 0;
    const size_t end = cwl::batch_end(s.events, st.next, s_.max_events_per_batch, bytes);
    const size_t n = end - st.next;
    std::string body = cwl::put_log_events_body(s.group, s.stream, s.events.data() + st.next, n, st.token);
    const std::string token = st.token;
    call("PutLogEvents", std::move(body), [this, job, k, n, bytes, token](const http::HttpResponse& r, const ApiError* e) {
      const auto& s = job->streams[k];
      auto& st = job->progress[k];
      if (!e) return accepted(job, k, n, bytes, r);
      if (e->type == "InvalidSequenceTokenException" || e->type == "DataAlreadyAcceptedException") {
        st.token = e->expected_sequence_token;
        tokens_[s.group][s.stream] = st.token;
        log::warn("output " + id_ + ": updating upload sequence token forcefully because unrecoverable error "
                  "occured (" + describe(r, *e) + ", log_group " + s.group + ", log_stream " + s.stream + ")");
        // DataAlreadyAccepted: these events are stored already; sending them again would double them.
        if (e->type == "DataAlreadyAcceptedException") return accepted(job, k, n, bytes, r);
        ++st.retries;
        return after(1.0, [this, job, k] { put_next(job, k); });
      }
      if (e->type == "ResourceNotFoundException") {
        if (s_.auto_create_stream && e->message == "The specified log stream does not exist.") {
          log::warn("output " + id_ + ": Creating log stream because \"The specified log stream does not exist.\" "
                    "error is got (log_group " + s.group + ", log_stream " + s.stream + ")");
          ++st.retries;
          return create_stream(job, k, [this, job, k] { put_next(job, k); });
        }
        // Deleted since it was seen: found (or created) again on the next attempt.
        tokens_.erase(s.group);
        return fail(job, buffer::SendResult::retry("PutLogEvents: " + describe(r, *e)));
      }
      if (e->type == "ThrottlingException") {
        bump(*m_throttled_);
        if (s_.put_retry_limit < 1 || (!s_.put_retry_forever && s_.put_retry_limit < st.retries)) {
          const std::string why = "failed to PutLogEvents: retry count exceeded put_log_events_retry_limit (" +
                                  describe(r, *e) + ")";
          st.retries = 0;
          return fail(job, buffer::SendResult::retry(why));
        }
        double wait = s_.put_retry_wait * std::pow(2.0, st.retries);
        wait += wait * 0.25 * (std::uniform_real_distribution<double>(0, 1)(rng_) - 0.5);
        log::warn("output " + id_ + ": failed to PutLogEvents (" + describe(r, *e) + "); retrying in " +
                  std::to_string(wait).substr(0, 5) + "s");
        ++st.retries;
        return after(wait, [this, job, k] { put_next(job, k); });
      }
      fail_with(job, "PutLogEvents", r, *e);
    });
  }

  void accepted(const JobPtr& job, size_t k, size_t n, size_t bytes, const http::HttpResponse& r) {
    const auto& s = job->streams[k];
    auto& st = job->progress[k];
    cwl::PutResult result;
    if (!cwl::parse_put_response(r.body, result))
      log::debug("output " + id_ + ": PutLogEvents answered 2xx with a body that is not JSON");
    const std::string request = "group " + s.group + ", stream " + s.stream + ", events_count " +
                                std::to_string(n) + ", events_bytesize " + std::to_string(bytes) +
                                ", request_sec " + std::to_string(r.seconds).substr(0, 5);
    if (!result.rejected.empty() && s_.log_rejected_request) {
      log::warn("output " + id_ + ": " + result.rejected);
      log::warn("output " + id_ + ": Called PutLogEvents API (" + request + ")");
    } else if (log::enabled(log::Level::Debug)) {
      log::debug("output " + id_ + ": Called PutLogEvents API (" + request + ")");
    }
    if (st.retries > 0) log::warn("output " + id_ + ": retry succeeded");
    st.retries = 0;
    st.next += n;
    job->accepted += n;
    st.token = result.next_sequence_token;  // store_next_sequence_token
    tokens_[s.group][s.stream] = st.token;
    put_next(job, k);
  }

  // ---- <secondary> ----

  bool secondary_lines(const buffer::Chunk& c, std::string& out) const {
    std::vector<cwl::Event> events;
    if (!cwl::read_entries(c.payload, events)) {
      out = "the chunk is damaged (not a sequence of events)";
      return false;
    }
    const std::string group = expand(s_.group_template, c), stream = expand(s_.stream_template, c);
    out.clear();
    for (const auto& e : events) {
      out.append("{\"logGroupName\":");
      json::append_string(out, e.group.empty() ? std::string_view(group) : e.group);
      out.append(",\"logStreamName\":");
      json::append_string(out, e.stream.empty() ? std::string_view(stream) : e.stream);
      out.append(",\"timestamp\":").append(std::to_string(e.time_ms)).append(",\"message\":");
      json::append_string(out, e.message);
      out.append("}\n");
    }
    return true;
  }

  uv_loop_t* loop_;
  std::string id_;
  bool dry_run_;
  Settings s_;
  cwl::EventFormatter fmt_;
  RecordInjector inject_;
  std::vector<std::string> record_keys_;
  buffer::ChunkKeys keys_;
  std::unique_ptr<http::aws::AwsCredentialsProvider> credentials_;
  std::mt19937_64 rng_;
  size_t max_requests_ = 2;
  std::set<Timer*> timers_;
  // The plugin's @sequence_tokens: the groups known to exist, and per group the streams known to
  // exist with their sequence token ("" when none).
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> tokens_;
  std::string variant_, scratch_;

  Counter* m_records_;
  Counter* m_bytes_;
  Counter* m_wire_bytes_;
  Counter* m_requests_;
  Counter* m_failures_;
  Counter* m_throttled_;
  Counter* m_skipped_;
  Counter* m_refused_;
  // Last: destroyed first, before what its buffer's hooks use.
  http::BufferedSender sender_;
};

std::unique_ptr<Output> build(PluginContext& ctx, const Params& p) {
  return std::make_unique<CloudWatchLogsOutput>(ctx, cwl::parse_config(ctx, p));
}

}  // namespace

void register_out_cloudwatch_logs(Registry& registry) { registry.add_output(cwl::plugin_spec(), build); }

}  // namespace sluice

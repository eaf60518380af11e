// `@type kafka2` (aliases `rdkafka2`, `kafka_buffered`): records to Kafka through librdkafka.
//
// librdkafka is the buffer. Each write() formats the batch once into a Group (one byte buffer
// holding every value, key and header of the batch) and produces every message without copying,
// with the message's opaque pointing at its entry in the group. The group retains the batch's
// Claim; delivery reports, served on the event loop (rd_kafka_poll, woken by librdkafka through
// a pipe), count the group down and release the claim when its last message is delivered or
// dead-lettered, so tail positions advance only past delivered records.
//
// When librdkafka's queue is full the rest goes to a local backlog, the sources are held
// (FlowControl), and the backlog is produced as deliveries free room. Failed deliveries are
// re-produced with backoff (the <buffer> retry_* policy) or dead-lettered when Kafka says they
// can never succeed (too large, invalid record). A fatal producer error (e.g. a fenced
// idempotent producer) retires the producer: what it still holds is purged and re-produced on a
// new one.
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <regex>
#include <unordered_map>
#include <unordered_set>

#include "core/delivery.h"
#include "core/log.h"
#include "core/registry.h"
#include "format/json.h"
#include "format/time.h"
#include "kafka_format.h"
#include "kafka_settings.h"

namespace sluice {

namespace {

using namespace kafka;

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Group;

struct Msg {
  Group* group = nullptr;
  uint32_t value_off = 0, value_len = 0;
  uint32_t key_off = 0;
  int32_t key_len = -1;   // -1: no key
  uint32_t pkey_off = 0;
  int32_t pkey_len = -1;  // -1: no partition key
  int32_t partition = RD_KAFKA_PARTITION_UA;
  uint32_t topic = 0;     // index into KafkaOutput::topics_
  uint32_t hdr_first = 0, hdr_count = 0;
  int64_t timestamp_ms = 0;
  uint32_t attempts = 0;
  bool done = false;
  double first_failure = 0;
  double not_before = 0;
};

struct Hdr {
  uint32_t name_off, name_len, val_off;
  int32_t val_len;  // -1: null
};

struct Group {
  Claim* claim = nullptr;
  std::string tag;
  std::string data;
  std::vector<Msg> msgs;
  std::vector<Hdr> hdrs;
  size_t pending = 0;
};

struct Producer {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* main_q = nullptr;
  std::vector<rd_kafka_topic_t*> rkts;
  double retired_at = 0;
  ~Producer() {
    for (auto* t : rkts)
      if (t) rd_kafka_topic_destroy(t);
    if (main_q) rd_kafka_queue_destroy(main_q);
    if (rk) rd_kafka_destroy(rk);
  }
};

bool permanent_error(rd_kafka_resp_err_t e) {
  switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
      return true;
    default:
      return false;
  }
}

class KafkaOutput : public Output {
 public:
  KafkaOutput(const PluginContext& ctx, Settings settings, RecordMapper mapper)
      : loop_(ctx.loop),
        metrics_(ctx.metrics),
        flow_(ctx.flow),
        id_(ctx.id),
        label_emitter_(ctx.label_emitter),
        s_(std::move(settings)),
        mapper_(std::move(mapper)) {
    // Validate every property now, so mistakes are config errors with file:line.
    rd_kafka_conf_t* conf = make_conf();
    rd_kafka_conf_destroy(conf);
    if (!s_.discard_delivery_failed_regex.empty()) {
      try {
        discard_re_ = std::regex(s_.discard_delivery_failed_regex);
      } catch (const std::regex_error& e) {
        throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                              "discard_kafka_delivery_failed_regex: " + std::string(e.what()));
      }
    }
    if (metrics_) {
      messages_ = &metric("sluice_kafka_messages_total");
      bytes_ = &metric("sluice_kafka_bytes_total");
      retries_ = &metric("sluice_kafka_retries_total");
      dead_letters_ = &metric("sluice_kafka_dead_letters_total");
      rebuilds_ = &metric("sluice_kafka_producer_rebuilds_total");
      queue_depth_ = &metric("sluice_kafka_queue_depth");
    }
    if (!s_.default_topic.empty()) default_topic_ = intern(s_.default_topic);
    if (ctx.dry_run) return;
    for (auto& n : s_.notes) log::info(id_ + ": " + n);
    if (pipe2(wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0)
      throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                            std::string("kafka: pipe: ") + strerror(errno));
    prod_ = create_producer();
    if (!prod_)
      throw ConfigException(ctx.section ? ctx.section->pos : SourcePos{},
                            "kafka: cannot create the producer: " + create_error_);
  }

  ~KafkaOutput() override {
    retired_.clear();
    if (prod_) {
      rd_kafka_purge(prod_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      prod_.reset();
    }
    for (Group* g : groups_) delete g;
    if (wake_fds_[0] >= 0) ::close(wake_fds_[0]);
    if (wake_fds_[1] >= 0) ::close(wake_fds_[1]);
    if (dead_letter_fd_ >= 0) ::close(dead_letter_fd_);
  }

  void start() override {
    if (!loop_ || !prod_) return;
    uv_poll_init(loop_, &wake_, wake_fds_[0]);
    wake_.data = this;
    uv_poll_start(&wake_, UV_READABLE, [](uv_poll_t* h, int, int) {
      auto* self = static_cast<KafkaOutput*>(h->data);
      char buf[256];
      while (::read(self->wake_fds_[0], buf, sizeof buf) > 0) {
      }
      self->service();
    });
    uv_timer_init(loop_, &tick_);
    tick_.data = this;
    uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<KafkaOutput*>(t->data)->service(); }, 100, 100);
    handles_ = true;
    // Deliveries that completed before the loop started.
    rd_kafka_queue_io_event_enable(prod_->main_q, wake_fds_[1], "1", 1);
    service();
  }

  void write(const Batch& batch) override {
    if (batch.records.empty()) return;
    auto* g = new Group;
    g->tag.assign(batch.tag);
    g->msgs.reserve(batch.records.size());
    uint32_t fixed_topic = UINT32_MAX;
    if (!s_.topic.empty()) fixed_topic = intern(expand_tag(s_.topic, batch.tag));
    for (const Record& r : batch.records) {
      size_t start = g->data.size();
      mapper_.map(batch, r, g->data, meta_);
      size_t len = g->data.size() - start;
      if (s_.max_send_limit_bytes && len > *s_.max_send_limit_bytes) {
        std::string value = g->data.substr(start);
        g->data.resize(start);
        dead_letter(g->tag, topic_name_for(fixed_topic, meta_.topic, batch.tag), meta_.key,
                    value, "record size " + std::to_string(len) + " exceeds max_send_limit_bytes " +
                               std::to_string(*s_.max_send_limit_bytes));
        continue;
      }
      Msg& m = g->msgs.emplace_back();
      m.group = g;
      m.value_off = static_cast<uint32_t>(start);
      m.value_len = static_cast<uint32_t>(len);
      if (meta_.key) {
        m.key_off = static_cast<uint32_t>(g->data.size());
        m.key_len = static_cast<int32_t>(meta_.key->size());
        g->data.append(*meta_.key);
      }
      if (meta_.pkey) {
        m.pkey_off = static_cast<uint32_t>(g->data.size());
        m.pkey_len = static_cast<int32_t>(meta_.pkey->size());
        g->data.append(*meta_.pkey);
      }
      if (meta_.partition) m.partition = *meta_.partition;
      m.topic = fixed_topic != UINT32_MAX ? fixed_topic
                : !meta_.topic.empty()    ? intern(meta_.topic)
                : default_topic_ != UINT32_MAX ? default_topic_
                                               : intern(batch.tag);
      if (!meta_.headers.empty()) {
        m.hdr_first = static_cast<uint32_t>(g->hdrs.size());
        m.hdr_count = static_cast<uint32_t>(meta_.headers.size());
        for (auto& [name, val] : meta_.headers) {
          Hdr h{static_cast<uint32_t>(g->data.size()), static_cast<uint32_t>(name.size()), 0, -1};
          g->data.append(name);
          if (val) {
            h.val_off = static_cast<uint32_t>(g->data.size());
            h.val_len = static_cast<int32_t>(val->size());
            g->data.append(*val);
          }
          g->hdrs.push_back(h);
        }
      }
      if (s_.use_event_time) m.timestamp_ms = r.time.sec * 1000 + r.time.nsec / 1000000;
    }
    if (g->msgs.empty()) {
      delete g;
      return;
    }
    g->pending = g->msgs.size();
    pending_msgs_ += g->pending;
    groups_.insert(g);
    if (batch.claim) {
      g->claim = batch.claim;
      g->claim->retain();
    }
    for (Msg& m : g->msgs) backlog_.push_back(&m);
    drain();
  }

  void close(std::function<void()> done) override {
    closing_ = true;
    close_done_ = std::move(done);
    close_deadline_ = mono_now() + s_.close_timeout;
    for (Msg* m : retry_) m->not_before = 0;
    if (!handles_) {
      finish_close();
      return;
    }
    uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<KafkaOutput*>(t->data)->service(); }, 10, 10);
    service();
  }

 private:
  Counter& metric(const std::string& name) {
    return metrics_->counter(name + "{plugin=\"" + id_ + "\"}");
  }
  Counter* error_counter(const char* family, rd_kafka_resp_err_t err) {
    if (!metrics_) return nullptr;
    auto key = std::make_pair(std::string(family), static_cast<int>(err));
    auto it = error_counters_.find(key);
    if (it != error_counters_.end()) return it->second;
    Counter* c = &metrics_->counter(std::string(family) + "{plugin=\"" + id_ + "\",code=\"" +
                                    rd_kafka_err2name(err) + "\"}");
    error_counters_[key] = c;
    return c;
  }
  static void count(Counter* c, uint64_t n = 1) {
    if (c) bump(*c, n);
  }

  // ---- producer ----

  rd_kafka_conf_t* make_conf() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    for (const Property& p : s_.props) {
      if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        // librdkafka's message may quote the value: keep secrets out of it.
        std::string why = p.secret ? "invalid value for librdkafka property '" + p.name + "'"
                                   : "librdkafka: " + std::string(err);
        throw ConfigException(p.pos, why);
      }
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &KafkaOutput::on_error);
    rd_kafka_conf_set_log_cb(conf, &KafkaOutput::on_log);
    rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
    rd_kafka_topic_conf_set_partitioner_cb(tconf, &KafkaOutput::partition);
    rd_kafka_topic_conf_set_opaque(tconf, this);
    rd_kafka_conf_set_default_topic_conf(conf, tconf);
    return conf;
  }

  std::unique_ptr<Producer> create_producer() {
    rd_kafka_conf_t* conf = make_conf();
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
      rd_kafka_conf_destroy(conf);
      create_error_ = err;
      return nullptr;
    }
    auto p = std::make_unique<Producer>();
    p->rk = rk;
    rd_kafka_set_log_queue(rk, nullptr);  // logs to the main queue, served by rd_kafka_poll
    p->main_q = rd_kafka_queue_get_main(rk);
    if (handles_) rd_kafka_queue_io_event_enable(p->main_q, wake_fds_[1], "1", 1);
    return p;
  }

  // Partition by the partition key when the record has one, else by the message key, with
  // ruby-kafka's hash (CRC32, or murmur2). Keyless messages never come here: librdkafka's
  // sticky partitioner spreads them.
  static int32_t partition(const rd_kafka_topic_t* rkt, const void* key, size_t keylen,
                           int32_t partition_cnt, void* topic_opaque, void* msg_opaque) {
    auto* self = static_cast<KafkaOutput*>(topic_opaque);
    auto* m = static_cast<Msg*>(msg_opaque);
    if (m && m->pkey_len >= 0) {
      key = m->group->data.data() + m->pkey_off;
      keylen = static_cast<size_t>(m->pkey_len);
    }
    if (self->s_.murmur2)
      return rd_kafka_msg_partitioner_murmur2(rkt, key, keylen, partition_cnt, topic_opaque, msg_opaque);
    return rd_kafka_msg_partitioner_consistent(rkt, key, keylen, partition_cnt, topic_opaque, msg_opaque);
  }

  uint32_t intern(std::string_view name) {
    auto it = topic_ids_.find(std::string(name));
    if (it != topic_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(topics_.size());
    topics_.emplace_back(name);
    topic_ids_.emplace(topics_.back(), id);
    return id;
  }
  rd_kafka_topic_t* topic_handle(Producer& p, uint32_t idx) {
    if (p.rkts.size() <= idx) p.rkts.resize(idx + 1, nullptr);
    if (!p.rkts[idx]) p.rkts[idx] = rd_kafka_topic_new(p.rk, topics_[idx].c_str(), nullptr);
    return p.rkts[idx];
  }

  static std::string expand_tag(const std::string& pattern, std::string_view tag) {
    if (pattern.find("${tag") == std::string::npos) return pattern;
    std::vector<std::string_view> parts;
    for (size_t b = 0;;) {
      size_t d = tag.find('.', b);
      parts.push_back(tag.substr(b, d == std::string_view::npos ? std::string_view::npos : d - b));
      if (d == std::string_view::npos) break;
      b = d + 1;
    }
    std::string out;
    for (size_t i = 0; i < pattern.size();) {
      if (pattern.compare(i, 6, "${tag}") == 0) {
        out.append(tag);
        i += 6;
      } else if (pattern.compare(i, 6, "${tag[") == 0) {
        size_t close = pattern.find("]}", i);
        if (close == std::string::npos) {
          out.append(pattern, i, std::string::npos);
          break;
        }
        long n = strtol(pattern.c_str() + i + 6, nullptr, 10);
        if (n < 0) n += static_cast<long>(parts.size());
        if (n >= 0 && n < static_cast<long>(parts.size())) out.append(parts[static_cast<size_t>(n)]);
        i = close + 2;
      } else {
        out.push_back(pattern[i++]);
      }
    }
    return out;
  }

  std::string topic_name_for(uint32_t fixed, std::string_view rec_topic, std::string_view tag) {
    if (fixed != UINT32_MAX) return topics_[fixed];
    if (!rec_topic.empty()) return std::string(rec_topic);
    if (!s_.default_topic.empty()) return s_.default_topic;
    return std::string(tag);
  }

  // Hands one message to librdkafka. Returns its error (0: queued).
  rd_kafka_resp_err_t produce(Msg* m) {
    Group* g = m->group;
    const char* base = g->data.data();
    rd_kafka_headers_t* hdrs = nullptr;
    if (m->hdr_count) {
      hdrs = rd_kafka_headers_new(m->hdr_count);
      for (uint32_t i = 0; i < m->hdr_count; ++i) {
        const Hdr& h = g->hdrs[m->hdr_first + i];
        rd_kafka_header_add(hdrs, base + h.name_off, h.name_len,
                            h.val_len < 0 ? nullptr : base + h.val_off, h.val_len);
      }
    }
    // A partition key without a message key: librdkafka only runs the partitioner for keyed
    // messages, so the message gets an empty key (see README).
    const char* key = m->key_len >= 0 ? base + m->key_off : (m->pkey_len >= 0 ? base : nullptr);
    size_t key_len = m->key_len >= 0 ? static_cast<size_t>(m->key_len) : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        prod_->rk, RD_KAFKA_V_RKT(topic_handle(*prod_, m->topic)), RD_KAFKA_V_PARTITION(m->partition),
        RD_KAFKA_V_VALUE(const_cast<char*>(base + m->value_off), m->value_len),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(m->timestamp_ms),
        RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
    if (err && hdrs) rd_kafka_headers_destroy(hdrs);
    return err;
  }

  // Produces what waits: due retries first (older data), then the backlog, in order.
  void drain() {
    if (!prod_ || rebuild_pending_) {
      update_hold();
      return;
    }
    double now = mono_now();
    size_t n = retry_.size();
    while (n-- > 0 && !retry_.empty() && retry_.front()->not_before <= now) {
      Msg* m = retry_.front();
      rd_kafka_resp_err_t err = produce(m);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      retry_.pop_front();
      if (err) failed(m, err, true);
      if (rebuild_pending_) break;
    }
    while (!backlog_.empty() && !rebuild_pending_) {
      Msg* m = backlog_.front();
      rd_kafka_resp_err_t err = produce(m);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        queue_full_ = true;
        break;
      }
      backlog_.pop_front();
      if (err) failed(m, err, true);
    }
    if (backlog_.empty()) queue_full_ = false;
    update_hold();
  }

  void update_hold() {
    if (!flow_) return;
    bool hold = !backlog_.empty() || !retry_.empty();
    if (hold && !holding_) {
      flow_->hold(this);
      holding_ = true;
    } else if (!hold && holding_) {
      holding_ = false;
      flow_->release(this);
    }
  }

  // Polls every producer, rebuilds a failed one, produces what waits, and finishes closing.
  void service() {
    for (auto it = retired_.begin(); it != retired_.end();) {
      Producer& p = **it;
      rd_kafka_poll(p.rk, 0);
      if (rd_kafka_outq_len(p.rk) == 0 || mono_now() - p.retired_at > 30) {
        if (rd_kafka_outq_len(p.rk) > 0)
          log::error(id_ + ": retired producer still holds " + std::to_string(rd_kafka_outq_len(p.rk)) +
                     " messages after 30s; they will be read again at the next start");
        rd_kafka_queue_io_event_enable(p.main_q, -1, nullptr, 0);
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    if (prod_) rd_kafka_poll(prod_->rk, 0);
    if (rebuild_pending_ && !closing_) rebuild();
    drain();
    if (queue_depth_ && prod_)
      queue_depth_->store(static_cast<uint64_t>(rd_kafka_outq_len(prod_->rk)) + backlog_.size() + retry_.size(),
                          std::memory_order_relaxed);
    if (closing_ && close_done_ && (pending_msgs_ == 0 || mono_now() >= close_deadline_)) finish_close();
  }

  void rebuild() {
    rebuild_pending_ = false;
    log::warn(id_ + ": rebuilding the Kafka producer; undelivered messages are produced again");
    std::unique_ptr<Producer> fresh = create_producer();
    if (!fresh) {
      log::error(id_ + ": cannot create a new producer: " + create_error_ + "; retrying");
      rebuild_pending_ = true;
      return;
    }
    std::unique_ptr<Producer> old = std::move(prod_);
    prod_ = std::move(fresh);
    rebuild_count_++;
    count(rebuilds_);
    // Its delivery reports (purged, or delivered after all) still come through service().
    rd_kafka_purge(old->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
    old->retired_at = mono_now();
    retired_.push_back(std::move(old));
  }

  void finish_close() {
    auto done = std::move(close_done_);
    close_done_ = nullptr;
    if (pending_msgs_ > 0)
      log::warn(id_ + ": " + std::to_string(pending_msgs_) +
                " messages were not acknowledged by Kafka within close_timeout; their records "
                "will be read again at the next start");
    closed_ = true;
    retired_.clear();
    if (prod_) {
      rd_kafka_purge(prod_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_queue_io_event_enable(prod_->main_q, -1, nullptr, 0);
      prod_.reset();
    }
    if (holding_ && flow_) {
      holding_ = false;
      flow_->release(this);
    }
    if (handles_) {
      uv_timer_stop(&tick_);
      uv_poll_stop(&wake_);
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick_))) uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&wake_))) uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    }
    if (done) done();
  }

  // ---- delivery ----

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* km, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    auto* m = static_cast<Msg*>(km->_private);
    if (!m || self->closed_) return;
    if (!km->err) {
      count(self->messages_);
      count(self->bytes_, m->value_len);
      self->finish(m);
    } else if (rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The producer is dead (its fatal error is being handled): produce again, on the new one.
      count(self->error_counter("sluice_kafka_delivery_errors_total", km->err));
      self->failed(m, RD_KAFKA_RESP_ERR__FATAL, false);
    } else {
      self->failed(m, km->err, false);
    }
  }

  void finish(Msg* m) {
    if (m->done) return;
    m->done = true;
    --pending_msgs_;
    Group* g = m->group;
    if (--g->pending == 0) {
      if (g->claim) g->claim->release();
      groups_.erase(g);
      delete g;
    }
  }

  void requeue(Msg* m, bool backoff) {
    count(retries_);
    if (backoff) {
      double wait = s_.retry_wait * std::pow(2.0, std::min<uint32_t>(m->attempts, 30) - 1.0);
      m->not_before = mono_now() + std::min(wait, s_.retry_max_interval);
    } else {
      m->not_before = 0;
    }
    retry_.push_back(m);
  }

  void failed(Msg* m, rd_kafka_resp_err_t err, bool at_produce) {
    if (closed_) return;
    if (err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT ||
        err == RD_KAFKA_RESP_ERR__FATAL) {
      if (closing_ && err != RD_KAFKA_RESP_ERR__FATAL) return;  // shutting down: read again at restart
      if (err == RD_KAFKA_RESP_ERR__FATAL) rebuild_pending_ = true;
      requeue(m, false);
      return;
    }
    count(error_counter("sluice_kafka_delivery_errors_total", err));
    const std::string& topic = topics_[m->topic];
    std::string what = std::string(rd_kafka_err2name(err)) + " (" + rd_kafka_err2str(err) + ")";
    if (permanent_error(err)) {
      dead_letter_msg(m, "Kafka rejected the message: " + what);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION && m->partition != RD_KAFKA_PARTITION_UA &&
        s_.use_default_for_unknown_partition_error) {
      m->partition = RD_KAFKA_PARTITION_UA;
      requeue(m, false);
      return;
    }
    bool unknown_topic = err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (unknown_topic && s_.use_default_for_unknown_topic && default_topic_ != UINT32_MAX &&
        m->topic != default_topic_) {
      rate_limited_warn(err, "topic '" + topic + "' does not exist; sending to default_topic '" +
                                 s_.default_topic + "'");
      m->topic = default_topic_;
      requeue(m, false);
      return;
    }
    if (s_.discard_delivery_failed &&
        (s_.discard_delivery_failed_regex.empty() || std::regex_search(what, discard_re_))) {
      dead_letter_msg(m, "delivery failed (discard_kafka_delivery_failed): " + what);
      return;
    }
    double now = mono_now();
    if (m->first_failure == 0) m->first_failure = now;
    m->attempts++;
    if (!s_.retry_forever && (now - m->first_failure > s_.retry_timeout ||
                              (s_.retry_max_times && m->attempts > static_cast<uint64_t>(*s_.retry_max_times)))) {
      dead_letter_msg(m, "gave up after " + std::to_string(m->attempts) + " attempts: " + what);
      return;
    }
    std::string hint = unknown_topic ? "; topic '" + topic + "' does not exist (auto-creation off?)" : "";
    rate_limited_warn(err, std::string(at_produce ? "produce" : "delivery") + " to '" + topic +
                               "' failed: " + what + hint + "; retrying");
    requeue(m, true);
  }

  void dead_letter_msg(Msg* m, const std::string& reason) {
    const char* base = m->group->data.data();
    std::optional<std::string_view> key;
    if (m->key_len >= 0) key = std::string_view(base + m->key_off, static_cast<size_t>(m->key_len));
    dead_letter(m->group->tag, topics_[m->topic], key,
                std::string_view(base + m->value_off, m->value_len), reason);
    finish(m);
  }

  // A record that will never be delivered: counted, logged (rate limited), appended to
  // dead_letter_path and emitted to the @ERROR label when they exist. Its claim is released.
  void dead_letter(const std::string& tag, const std::string& topic,
                   std::optional<std::string_view> key, std::string_view value,
                   const std::string& reason) {
    count(dead_letters_);
    std::string msg = id_ + ": dead-lettered a record for topic '" + topic + "' (tag " + tag +
                      "): " + reason;
    if (dead_letter_logged_++ < 10 || dead_letter_logged_ % 1000 == 0) log::warn(msg);
    EventTime t = now();
    if (!s_.dead_letter_path.empty()) {
      if (dead_letter_fd_ < 0)
        dead_letter_fd_ = ::open(s_.dead_letter_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      if (dead_letter_fd_ >= 0) {
        std::string line = "{";
        bool first = true;
        json::append_member(line, first, "time", Value::of_int(t.sec));
        json::append_member(line, first, "tag", Value::of_string(tag));
        json::append_member(line, first, "topic", Value::of_string(topic));
        json::append_member(line, first, "reason", Value::of_string(reason));
        json::append_member(line, first, "key", key ? Value::of_string(*key) : Value::null());
        json::append_member(line, first, "value", Value::of_string(value));
        line.append("}\n");
        ssize_t w = ::write(dead_letter_fd_, line.data(), line.size());
        (void)w;
      } else {
        log::warn_once("kafka.dead_letter_path", id_ + ": cannot open dead_letter_path " +
                                                     s_.dead_letter_path + ": " + strerror(errno));
      }
    }
    if (label_emitter_) {
      if (Emitter* e = label_emitter_("@ERROR")) {
        Batch b;
        b.tag = tag;
        b.begin_record(t);
        b.add_field("error", Value::of_string(reason));
        b.add_field("topic", Value::of_string(topic));
        b.add_field("key", key ? Value::of_string(*key) : Value::null());
        b.add_field("message", Value::of_string(value));
        e->emit(b);
      }
    }
  }

  void rate_limited_warn(rd_kafka_resp_err_t err, const std::string& text) {
    double now = mono_now();
    auto& slot = warned_[static_cast<int>(err)];
    if (now - slot.first < 10) {
      slot.second++;
      return;
    }
    std::string extra = slot.second ? " (" + std::to_string(slot.second) + " similar suppressed)" : "";
    slot = {now, 0};
    log::warn(id_ + ": " + text + extra);
  }

  static void on_error(rd_kafka_t* rk, int err_, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaOutput*>(opaque);
    auto err = static_cast<rd_kafka_resp_err_t>(err_);
    if (self->closed_) return;
    count(self->error_counter("sluice_kafka_client_errors_total", err));
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      log::error(self->id_ + ": fatal Kafka producer error " + rd_kafka_err2name(orig) + ": " + buf);
      if (self->prod_ && rk == self->prod_->rk) self->rebuild_pending_ = true;
      return;
    }
    std::string text = std::string("Kafka client error ") + rd_kafka_err2name(err) + ": " + reason;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
      text += " (check username/password/scram_mechanism and the broker's ACLs)";
    self->rate_limited_warn(err, text);
  }

  static void on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    auto* self = static_cast<KafkaOutput*>(rd_kafka_opaque(rk));
    if (!self || !self->s_.client_log) return;
    std::string line = self->id_ + ": librdkafka " + fac + ": " + buf;
    if (level <= 3) log::error(line);
    else if (level == 4) log::warn(line);
    else if (level <= 6) log::info(line);
    else log::debug(line);
  }

  uv_loop_t* loop_;
  Metrics* metrics_;
  FlowControl* flow_;
  std::string id_;
  std::function<Emitter*(const std::string&)> label_emitter_;
  Settings s_;
  RecordMapper mapper_;
  MessageMeta meta_;
  std::regex discard_re_;

  std::unique_ptr<Producer> prod_;
  std::vector<std::unique_ptr<Producer>> retired_;
  std::string create_error_;
  bool rebuild_pending_ = false;
  int rebuild_count_ = 0;

  std::vector<std::string> topics_;
  std::unordered_map<std::string, uint32_t> topic_ids_;
  uint32_t default_topic_ = UINT32_MAX;

  std::unordered_set<Group*> groups_;
  std::deque<Msg*> backlog_;  // not yet produced (queue full), in order
  std::deque<Msg*> retry_;    // failed, waiting for their backoff
  size_t pending_msgs_ = 0;
  bool queue_full_ = false;
  bool holding_ = false;

  int wake_fds_[2] = {-1, -1};
  uv_poll_t wake_{};
  uv_timer_t tick_{};
  bool handles_ = false;
  bool closing_ = false;
  bool closed_ = false;
  double close_deadline_ = 0;
  std::function<void()> close_done_;

  int dead_letter_fd_ = -1;
  uint64_t dead_letter_logged_ = 0;
  std::map<int, std::pair<double, uint64_t>> warned_;

  Counter* messages_ = nullptr;
  Counter* bytes_ = nullptr;
  Counter* retries_ = nullptr;
  Counter* dead_letters_ = nullptr;
  Counter* rebuilds_ = nullptr;
  Counter* queue_depth_ = nullptr;
  std::map<std::pair<std::string, int>, Counter*> error_counters_;
};

std::unique_ptr<Output> make_kafka(Variant v, PluginContext& ctx, const Params& params) {
  const ConfigSection& sec = params.section();
  const ConfigSection* buffer = sec.child("buffer");
  if (buffer) {
    std::string type = buffer->get("@type", "memory");
    if (ctx.registry && ctx.registry->spec("buffer", type)) {
      ctx.check_section(*buffer, "buffer", "memory");
    } else if (ctx.errors) {
      for (auto& e : validate_params(*buffer, buffer_fallback_spec())) ctx.errors->push_back(e);
    }
  }
  Settings s = build_settings(v, params, buffer, ctx.errors);
  LineFormat line;
  if (s.mapper.format == MapperConfig::Format::Line) {
    if (s.format_section && ctx.registry && ctx.registry->spec("formatter", s.format_type))
      ctx.check_section(*s.format_section, "formatter", "json");
    // kafka_buffered's output_data_type names a formatter without a <format> section.
    ConfigSection synthetic{"format", "", sec.pos, {{"@type", s.format_type, sec.pos, false}}, {}};
    line = LineFormat::configure(s.format_section ? s.format_section : &synthetic, s.format_type);
  }
  RecordMapper mapper(s.mapper, std::move(line));
  return std::make_unique<KafkaOutput>(ctx, std::move(s), std::move(mapper));
}

}  // namespace

void register_out_kafka(Registry& registry) {
  for (Variant v : {Variant::Kafka2, Variant::Rdkafka2, Variant::KafkaBuffered})
    registry.add_output(make_spec(v), [v](PluginContext& ctx, const Params& params) {
      return make_kafka(v, ctx, params);
    });
}

}  // namespace sluice

// What comes back from librdkafka: delivery reports, client errors and logs. Failed messages are
// re-produced with backoff or dead-lettered (see out_kafka.cpp).
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "core/delivery.h"
#include "core/log.h"
#include "format/json.h"
#include "format/time.h"
#include "kafka_output.h"

namespace sluice::kafka {

namespace {

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

}  // namespace

void KafkaOutput::on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* km, void* opaque) {
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

void KafkaOutput::finish(Msg* m) {
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

void KafkaOutput::requeue(Msg* m, bool backoff) {
  count(retries_);
  if (backoff) {
    double wait = s_.retry_wait * std::pow(2.0, std::min<uint32_t>(m->attempts, 30) - 1.0);
    m->not_before = mono_now() + std::min(wait, s_.retry_max_interval);
  } else {
    m->not_before = 0;
  }
  retry_.push_back(m);
}

void KafkaOutput::failed(Msg* m, rd_kafka_resp_err_t err, bool at_produce) {
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

void KafkaOutput::dead_letter_msg(Msg* m, const std::string& reason) {
  const char* base = m->group->data.data();
  std::optional<std::string_view> key;
  if (m->key_len >= 0) key = std::string_view(base + m->key_off, static_cast<size_t>(m->key_len));
  dead_letter(m->group->tag, topics_[m->topic], key,
              std::string_view(base + m->value_off, m->value_len), reason);
  finish(m);
}

// A record that will never be delivered: counted, logged (rate limited), appended to
// dead_letter_path and emitted to the @ERROR label when they exist. Its claim is released.
void KafkaOutput::dead_letter(const std::string& tag, const std::string& topic,
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

void KafkaOutput::rate_limited_warn(rd_kafka_resp_err_t err, const std::string& text) {
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

void KafkaOutput::on_error(rd_kafka_t* rk, int err_, const char* reason, void* opaque) {
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

void KafkaOutput::on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* self = static_cast<KafkaOutput*>(rd_kafka_opaque(rk));
  if (!self || !self->s_.client_log) return;
  std::string line = self->id_ + ": librdkafka " + fac + ": " + buf;
  if (level <= 3) log::error(line);
  else if (level == 4) log::warn(line);
  else if (level <= 6) log::info(line);
  else log::debug(line);
}

}  // namespace sluice::kafka

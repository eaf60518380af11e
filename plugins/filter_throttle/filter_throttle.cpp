#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <string>

#include "core/log.h"
#include "core/registry.h"
#include "format/json.h"
#include "format/json_lookup.h"
#include "format/line_format.h"
#include "throttle.h"

namespace sluice::throttle {

double wall_clock() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

namespace {

// Ruby's Float#round (half away from zero) of a finite rate.
int64_t ruby_round(double d) {
  if (!std::isfinite(d)) return 0;
  if (d > 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d < -9.2e18) return std::numeric_limits<int64_t>::min();
  return std::llround(d);
}

// Ruby's TypeError of Hash#dig through a value that has no #dig.
std::string no_dig(std::string_view json_token_or_kind) {
  char c = json_token_or_kind.empty() ? 'n' : json_token_or_kind[0];
  const char* cls = c == '"' ? "String"
                    : c == 't' ? "TrueClass"
                    : c == 'f' ? "FalseClass"
                    : json_token_or_kind.find_first_of(".eE") != std::string_view::npos ? "Float"
                                                                                        : "Integer";
  return std::string(cls) + " does not have #dig method";
}

}  // namespace

ThrottleFilter::ThrottleFilter(Settings s, std::string id, ErrorEvents::Labels labels, Clock clock)
    : s_(std::move(s)), id_(id), errors_(std::move(id), std::move(labels)), clock_(std::move(clock)) {}

bool ThrottleFilter::group_of(const Batch& b, const Record& r, std::string& key,
                              std::string& error) {
  key = "[";
  for (size_t p = 0; p < s_.group_key_paths.size(); ++p) {
    const std::vector<std::string>& path = s_.group_key_paths[p];
    if (p) key.push_back(',');
    const Value* top = b.find(r, path[0]);
    // record.dig(*path): the top value, then members of maps; nil stops; other values raise.
    std::string_view token;  // set once inside a JSON text
    bool in_json = false;
    if (top && path.size() > 1) {
      if (top->kind == ValueKind::Json) {
        token = top->text;
        size_t i = 0;
        jsonscan::detail::skip_ws(token, i);
        token = token.substr(i);
        in_json = true;
      } else if (top->kind != ValueKind::Null) {
        switch (top->kind) {
          case ValueKind::String: error = "String does not have #dig method"; break;
          case ValueKind::Bool: error = top->boolean ? "TrueClass does not have #dig method"
                                                     : "FalseClass does not have #dig method"; break;
          case ValueKind::Int: error = "Integer does not have #dig method"; break;
          default: error = "Float does not have #dig method";
        }
        return false;
      } else {
        top = nullptr;
      }
    }
    bool nil = !top;
    for (size_t step = 1; in_json && step < path.size(); ++step) {
      if (token.empty() || token == "null") {
        nil = true;
        break;
      }
      if (token[0] == '[') {
        error = "no implicit conversion of String into Integer";
        return false;
      }
      if (token[0] != '{') {
        error = no_dig(token);
        return false;
      }
      std::string_view found;
      bool hit = false;
      jsonscan::for_each_member(token, [&](std::string_view k, std::string_view v) {
        if (jsonscan::detail::string_token_equals(k, path[step])) found = v, hit = true;
      });
      if (!hit) {
        nil = true;
        break;
      }
      token = found;
    }
    // `dig(...) || dig(symbols)`: nil and false both give the second dig's nil.
    if (nil || (in_json && (token == "null" || token == "false")) ||
        (!in_json && top->kind == ValueKind::Bool && !top->boolean)) {
      key.append("null");
    } else if (in_json) {
      key.append(token);
    } else {
      json::append_value(key, *top);
    }
  }
  key.push_back(']');
  return true;
}

void ThrottleFilter::filter(Batch& batch) {
  const double now = clock_();
  errors_.clear();
  // The group when it comes from the batch's common fields only (the same for every record).
  bool common_known = false, common_ok = false;
  std::string common_key, common_error;
  size_t kept = 0;
  for (size_t n = 0; n < batch.records.size(); ++n) {
    const Record& r = batch.records[n];
    bool own = false;
    for (const auto& path : s_.group_key_paths)
      for (const Field* f = batch.begin(r); f != batch.end(r) && !own; ++f) own = f->key == path[0];
    bool ok;
    const std::string *key = &key_, *error = &error_;
    if (own) {
      ok = group_of(batch, r, key_, error_);
    } else {
      if (!common_known) {
        common_ok = group_of(batch, r, common_key, common_error);
        common_known = true;
      }
      ok = common_ok;
      key = &common_key, error = &common_error;
    }
    if (!ok) {  // Fluentd's filter_stream sends what raised to @ERROR
      errors_.add(r, {batch.begin(r), batch.end(r)}, batch.common_fields, *error);
      continue;
    }
    if (admit(*key, now) || !s_.drop_logs) batch.records[kept++] = r;
  }
  errors_.send(batch);
  batch.records.resize(kept);
}

bool ThrottleFilter::admit(const std::string& key, double now) {
  auto it = counters_.find(key);
  if (it == counters_.end()) {
    Counter c;
    c.group = key;
    append_json_as_ruby(c.inspect, key);  // the group as the warnings name it
    c.rate_last_reset = c.bucket_last_reset = now;
    order_.push_back(std::move(c));
    it = counters_.emplace(key, std::prev(order_.end())).first;
  } else {
    order_.splice(order_.end(), order_, it->second);  // most recently used
  }
  Counter& c = *it->second;

  c.rate_count += 1;
  double since_rate_reset = now - c.rate_last_reset;
  if (since_rate_reset >= 1) {
    c.aprox_rate = ruby_round(static_cast<double>(c.rate_count) / since_rate_reset);
    c.rate_count = 0;
    c.rate_last_reset = now;
  }

  // Evicts the least recently used group when it has been idle for two periods.
  Counter& lru = order_.front();
  if (&lru != &c && now - lru.rate_last_reset > 2.0 * static_cast<double>(s_.bucket_period_s)) {
    counters_.erase(lru.group);
    order_.pop_front();
  }

  auto period_of = [&](double t) {
    return static_cast<int64_t>(std::trunc(t)) / s_.bucket_period_s;  // Time#to_i / period
  };
  if (period_of(now) > period_of(c.bucket_last_reset)) {
    if (c.bucket_count == -1 && s_.reset_rate_s != -1) {
      if (c.aprox_rate < s_.reset_rate_s) {
        log::info("[" + id_ + "] rate back down" + items(now, c));
      } else {
        rate_exceeded(now, c);
        return false;
      }
    }
    c.bucket_count = 0;
    c.bucket_last_reset = now;
  } else if (c.bucket_count == -1) {
    rate_exceeded(now, c);
    return false;
  }

  c.bucket_count += 1;
  if (c.bucket_count > s_.bucket_limit) {
    rate_exceeded(now, c);
    c.bucket_count = -1;
    return false;
  }
  return true;
}

void ThrottleFilter::rate_exceeded(double now, Counter& c) {
  if (c.warned && now - c.last_warning < static_cast<double>(s_.warning_delay_s)) return;
  log::warn("[" + id_ + "] rate exceeded" + items(now, c));
  c.warned = true;
  c.last_warning = now;
}

// The Ruby plugin's log_items, as Fluentd's logger appends a hash: ` key=value.inspect`.
std::string ThrottleFilter::items(double now, const Counter& c) const {
  double since = now - c.bucket_last_reset;
  std::string rate;
  if (since > 0) {
    int64_t r = ruby_round(static_cast<double>(c.bucket_count) / since);
    rate = std::to_string(c.aprox_rate > r ? c.aprox_rate : r);
  } else {
    rate = "Infinity";  // Float::INFINITY: the approximate rate is never greater
  }
  return " group_key=" + c.inspect + " rate_s=" + rate +
         " period_s=" + std::to_string(s_.bucket_period_s) +
         " limit=" + std::to_string(s_.bucket_limit) +
         " rate_limit_s=" + std::to_string(s_.rate_limit()) +
         " reset_rate_s=" + std::to_string(s_.reset_rate_s);
}

void ThrottleFilter::stop() {
  log::debug("[" + id_ + "] counters summary: " + std::to_string(order_.size()) + " groups");
}

}  // namespace sluice::throttle

namespace sluice {

void register_filter_throttle(Registry& registry) {
  PluginSpec spec{"filter", "throttle",
                  "Rate-limits records per group of record values (fluent-plugin-throttle): "
                  "drops, or only warns about, what exceeds group_bucket_limit per "
                  "group_bucket_period_s.",
                  {},
                  {}};
  spec.params = {
      {"group_key", ParamType::Array, "kubernetes.container_name",
       "Comma-separated record paths (a.b.c: nested keys) whose values make the group."},
      {"group_bucket_period_s", ParamType::Integer, "60",
       "The period (seconds, > 0) over which group_bucket_limit applies."},
      {"group_bucket_limit", ParamType::Integer, "6000",
       "Records a group may pass per period (> 0)."},
      {"group_drop_logs", ParamType::Bool, "true",
       "Drop what exceeds the limit; false only logs the warnings."},
      {"group_reset_rate_s", ParamType::Integer, "",
       "After the limit was exceeded, records stay dropped until a new period in which the "
       "group's rate per second is below this (-1: at the next period). Default and maximum: "
       "group_bucket_limit / group_bucket_period_s.",
       {}, false},
      {"group_warning_delay_s", ParamType::Integer, "10",
       "Seconds (>= 1) between repeated 'rate exceeded' warnings of a group."},
  };
  registry.add_filter(std::move(spec), [](PluginContext& ctx, const Params& params) {
    throttle::Settings s;
    s.group_key_paths.clear();
    for (const std::string& key : params.list("group_key")) {
      // Ruby's String#split("."): empty trailing parts are dropped.
      std::vector<std::string> path;
      size_t start = 0;
      for (;;) {
        size_t dot = key.find('.', start);
        path.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      while (!path.empty() && path.back().empty()) path.pop_back();
      if (path.empty())
        throw ConfigException(params.pos("group_key"),
                              "throttle: group_key: '" + key + "' names no record key");
      s.group_key_paths.push_back(std::move(path));
    }
    if (s.group_key_paths.empty())
      throw ConfigException(params.pos("group_key"), "throttle: group_key names no record key");
    s.bucket_period_s = params.integer("group_bucket_period_s");
    if (s.bucket_period_s <= 0)
      throw ConfigException(params.pos("group_bucket_period_s"),
                            "throttle: group_bucket_period_s must be > 0");
    s.bucket_limit = params.integer("group_bucket_limit");
    if (s.bucket_limit <= 0)
      throw ConfigException(params.pos("group_bucket_limit"),
                            "throttle: group_bucket_limit must be > 0");
    s.drop_logs = params.flag("group_drop_logs");
    s.reset_rate_s = params.has("group_reset_rate_s") ? params.integer("group_reset_rate_s")
                                                      : s.rate_limit();
    if (s.reset_rate_s < -1)
      throw ConfigException(params.pos("group_reset_rate_s"),
                            "throttle: group_reset_rate_s must be >= -1");
    if (s.reset_rate_s > s.rate_limit())
      throw ConfigException(params.pos("group_reset_rate_s"),
                            "throttle: group_reset_rate_s must be <= group_bucket_limit / "
                            "group_bucket_period_s (" + std::to_string(s.rate_limit()) + ")");
    s.warning_delay_s = params.integer("group_warning_delay_s");
    if (s.warning_delay_s < 1)
      throw ConfigException(params.pos("group_warning_delay_s"),
                            "throttle: group_warning_delay_s must be >= 1");
    return std::make_unique<throttle::ThrottleFilter>(std::move(s), ctx.id, ctx.label_emitter);
  });
}

}  // namespace sluice

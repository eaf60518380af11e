#include "prometheus_family.h"

#include <charconv>
#include <cmath>

namespace sluice::prometheus {

std::vector<Bucket> default_buckets() {
  return {{0.005, "0.005"}, {0.01, "0.01"}, {0.025, "0.025"}, {0.05, "0.05"}, {0.1, "0.1"}, {0.25, "0.25"},
          {0.5, "0.5"},     {1, "1"},       {2.5, "2.5"},     {5, "5"},       {10, "10"}};
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Counter: return "counter";
    case Kind::Gauge: return "gauge";
    case Kind::Summary: return "summary";
    case Kind::Histogram: return "histogram";
  }
  return "untyped";
}

void append_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "Inf" : "-Inf";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string_view text(buf, size_t(end - buf));
  size_t e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  out += mantissa;
  if (mantissa.find('.') == std::string_view::npos) out += ".0";
  if (e != std::string_view::npos) out += text.substr(e);
}

void append_label_value(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += '"';
}

Family::Family(std::string name, Kind kind, std::string help, std::vector<std::string> label_names,
               std::vector<Bucket> buckets)
    : name_(std::move(name)),
      kind_(kind),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

bool Family::update(std::string_view labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = series_.find(labels);
  if (it == series_.end()) {
    if (series_.size() >= kMaxSeries) return false;
    it = series_.emplace(std::string(labels), Series{}).first;
    it->second.in_bucket.assign(kind_ == Kind::Histogram ? buckets_.size() : 0, 0);
  }
  Series& s = it->second;
  switch (kind_) {
    case Kind::Counter: s.value += value; break;
    case Kind::Gauge: s.value = value; break;
    case Kind::Summary:
      s.value += value;
      ++s.count;
      break;
    case Kind::Histogram:
      s.value += value;
      ++s.count;
      for (size_t i = 0; i < buckets_.size(); ++i)
        if (value <= buckets_[i].bound) {
          ++s.in_bucket[i];
          break;
        }
      break;
  }
  return true;
}

namespace {

// `{a="x",le="0.5"}` from `{a="x"}` (or from nothing) and a bucket bound.
void append_with_le(std::string& out, std::string_view labels, std::string_view le) {
  if (labels.empty()) {
    out += "{le=\"";
  } else {
    out.append(labels.substr(0, labels.size() - 1));
    out += ",le=\"";
  }
  out.append(le);
  out += "\"}";
}

}  // namespace

void Family::render(std::string& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  out += "# TYPE " + name_ + " " + kind_name(kind_) + "\n# HELP " + name_ + " ";
  for (char c : help_) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  out += '\n';
  for (const auto& [labels, s] : series_) {
    if (kind_ == Kind::Counter || kind_ == Kind::Gauge) {
      out += name_ + labels + " ";
      append_float(out, s.value);
      out += '\n';
      continue;
    }
    if (kind_ == Kind::Histogram) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < buckets_.size(); ++i) {
        cumulative += s.in_bucket[i];
        out += name_ + "_bucket";
        append_with_le(out, labels, buckets_[i].le);
        out += " ";
        append_float(out, double(cumulative));
        out += '\n';
      }
      out += name_ + "_bucket";
      append_with_le(out, labels, "+Inf");
      out += " ";
      append_float(out, double(s.count));
      out += '\n';
    }
    out += name_ + "_sum" + labels + " ";
    append_float(out, s.value);
    out += "\n" + name_ + "_count" + labels + " ";
    append_float(out, double(s.count));
    out += '\n';
  }
}

}  // namespace sluice::prometheus

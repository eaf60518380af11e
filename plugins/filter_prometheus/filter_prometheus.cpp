// `<filter> @type prometheus` and `<match> @type prometheus` (fluent-plugin-prometheus): each
// record counts in, sets or is observed by the <metric>s, whose series the metrics endpoint of
// `<source> @type prometheus` serves. The filter passes records on unchanged; the output drops
// them.
#include <charconv>
#include <memory>
#include <stdexcept>

#include "core/hostname.h"
#include "core/log.h"
#include "core/registry.h"
#include "metric_labels.h"
#include "prometheus_family.h"

namespace sluice {

namespace {

using prometheus::Family;
using prometheus::Kind;
using prometheus::Label;
using prometheus::LabelValue;

struct Metric {
  std::shared_ptr<Family> family;
  std::vector<Label> labels;
  bool per_record_labels = false;
  bool has_key = false;
  RecordPath key;
};

PluginSpec metric_spec() {
  PluginSpec s{"prometheus-metric", "metric", "", {}, {"labels", "initlabels"}};
  ParamSpec type = spec::choice("type", "", {"counter", "gauge", "summary", "histogram"}, "Metric type.");
  type.has_default = false;
  type.required = true;
  ParamSpec name = spec::optional("name", ParamType::String, "Metric name.");
  name.required = true;
  ParamSpec desc = spec::optional("desc", ParamType::String, "HELP text.");
  desc.required = true;
  s.params = {name, type, desc,
              spec::optional("key", ParamType::String,
                             "Record field (or $.a.b) with the value; counters without it count records."),
              spec::optional("buckets", ParamType::String, "Histogram bucket bounds, comma-separated."),
              spec::with_default("initialized", ParamType::Bool, "false", "Not supported: series appear with "
                                                                          "their first record."),
              spec::ignored("retention", ParamType::Duration, "Accepted; series are kept."),
              spec::ignored("retention_check_interval", ParamType::Duration, "Accepted; ignored.")};
  return s;
}

bool valid_name(std::string_view n, bool label) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// A <labels> section's entries, after `base` (a metric's own override the top level's values
// and keep their place, as Ruby's Hash#merge does).
std::vector<Label> parse_labels(const ConfigSection& parent, std::vector<Label> base) {
  const ConfigSection* labels = nullptr;
  for (const ConfigSection& c : parent.children) {
    if (c.name != "labels") continue;
    if (labels) throw ConfigException(c.pos, "labels section must have at most 1");
    labels = &c;
  }
  if (!labels) return base;
  for (const ConfigParam& p : labels->params) {
    if (!valid_name(p.key, true) || p.key.starts_with("__"))
      throw ConfigException(p.pos, "invalid label name '" + p.key + "'");
    try {
      LabelValue value(p.value);
      bool replaced = false;
      for (Label& l : base)
        if (l.name == p.key) {
          l.value = value;
          replaced = true;
        }
      if (!replaced) base.push_back({p.key, std::move(value)});
    } catch (const std::invalid_argument& e) {
      throw ConfigException(p.pos, std::string("label ") + p.key + ": " + e.what());
    }
  }
  return base;
}

std::vector<prometheus::Bucket> parse_buckets(const Params& p) {
  if (!p.has("buckets")) return prometheus::default_buckets();
  std::vector<prometheus::Bucket> out;
  for (std::string item : p.list("buckets")) {
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    double v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size())
      throw ConfigException(p.pos("buckets"), "bucket '" + item + "' is not a number");
    // Ruby keeps `1` an Integer and `0.5` a Float, and prints them so in `le`.
    std::string le;
    if (item.find('.') == std::string::npos) le = std::to_string(int64_t(v));
    else prometheus::append_float(le, v);
    if (!out.empty() && v <= out.back().bound)
      throw ConfigException(p.pos("buckets"), "buckets must be in increasing order");
    out.push_back({v, le});
  }
  if (out.empty()) throw ConfigException(p.pos("buckets"), "buckets is empty");
  return out;
}

class Instrument {
 public:
  Instrument(PluginContext& ctx, const Params& params) : id_(ctx.id), errors_(&ctx.counter("sluice_prometheus_instrument_errors_total")) {
    placeholders_.hostname = local_hostname();
    placeholders_.worker_id = std::to_string(ctx.worker_id);
    std::vector<Label> top = parse_labels(params.section(), {});
    // fluent-plugin-prometheus tells the workers' series apart by a worker_id label.
    if (ctx.workers > 1) top.push_back({"worker_id", LabelValue("${worker_id}")});
    static const PluginSpec spec = metric_spec();
    for (const ConfigSection& m : params.section().children) {
      if (m.name != "metric") continue;
      auto errors = validate_params(m, spec);
      if (!errors.empty()) throw ConfigException(errors[0].pos, errors[0].message);
      Params p(m, spec);
      metrics_.push_back(make_metric(ctx, m, p, top));
    }
  }

  void instrument(const Batch& batch) {
    placeholders_.tag.prepare(batch.tag);
    for (Metric& m : metrics_) {
      if (!m.per_record_labels) prometheus::render_labels(labels_, m.labels, placeholders_, &batch, nullptr, scratch_);
      // Counting records: one update per batch.
      if (!m.per_record_labels && !m.has_key) {
        if (!batch.records.empty()) update(m, double(batch.records.size()));
        continue;
      }
      for (const Record& r : batch.records) {
        double value = 1;
        if (m.has_key && !read_value(m, batch, r, value)) continue;
        if (m.per_record_labels) prometheus::render_labels(labels_, m.labels, placeholders_, &batch, &r, scratch_);
        update(m, value);
      }
    }
    if (!scratch_.unknown.empty()) {
      log::warn_once(id_ + ":placeholder:" + scratch_.unknown,
                     "[" + id_ + "] unknown placeholder `" + scratch_.unknown + "` found");
      scratch_.unknown.clear();
    }
  }

 private:
  Metric make_metric(PluginContext& ctx, const ConfigSection& section, const Params& p, const std::vector<Label>& top) {
    const std::string name = p.str("name"), type = p.str("type");
    if (!valid_name(name, false)) throw ConfigException(p.pos("name"), "invalid metric name '" + name + "'");
    if (p.flag("initialized"))
      throw ConfigException(p.pos("initialized"), "initialized true is not supported: series appear with their first "
                                                  "record");
    const Kind kind = type == "counter" ? Kind::Counter : type == "gauge" ? Kind::Gauge
                      : type == "summary" ? Kind::Summary : Kind::Histogram;
    Metric m;
    if (p.has("key")) {
      try {
        m.key = RecordPath(p.str("key"));
      } catch (const std::invalid_argument& e) {
        throw ConfigException(p.pos("key"), e.what());
      }
      m.has_key = true;
    } else if (kind != Kind::Counter) {
      throw ConfigException(section.pos, type + " metric requires 'key' option");
    }
    if (p.has("buckets") && kind != Kind::Histogram)
      throw ConfigException(p.pos("buckets"), "buckets is for histograms only");
    m.labels = parse_labels(section, top);
    std::vector<std::string> names;
    for (const Label& l : m.labels) {
      names.push_back(l.name);
      m.per_record_labels |= l.value.per_record();
    }
    auto made = std::make_shared<Family>(name, kind, p.str("desc"), names,
                                         kind == Kind::Histogram ? parse_buckets(p) : std::vector<prometheus::Bucket>{});
    m.family = made;
    if (ctx.metrics) {
      m.family = std::static_pointer_cast<Family>(ctx.metrics->family(name, [&] { return made; }));
      // Another <metric> (or another worker's copy of this one) made it: it must be the same.
      if (m.family->kind() != kind)
        throw ConfigException(p.pos("name"), name + " has already been registered as " +
                                                 prometheus::kind_name(m.family->kind()) + " type");
      if (m.family->help() != made->help())
        throw ConfigException(p.pos("desc"), name + " has already been registered with different docstring");
      if (m.family->label_names() != names)
        throw ConfigException(section.pos, name + " has already been registered with other labels");
    }
    return m;
  }

  bool read_value(const Metric& m, const Batch& batch, const Record& r, double& value) {
    const Value* top = batch.find(r, m.key.top());
    Value nested;
    if (top && m.key.nested()) {
      if (top->kind != ValueKind::Json) return false;
      text_.clear();
      m.key.append_to_s(text_, top);
      if (text_.empty()) return false;
      auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), value);
      if (ec == std::errc() && end == text_.data() + text_.size()) return true;
      return bad_value(m, text_);
    }
    if (!top || top->kind == ValueKind::Null || (top->kind == ValueKind::Bool && !top->boolean)) return false;
    if (top->kind == ValueKind::Int) value = double(top->integer);
    else if (top->kind == ValueKind::Float) value = top->real;
    else return bad_value(m, top->kind == ValueKind::String ? top->text : "a map, an array or true");
    return true;
  }

  // The Ruby client refuses values that are not numbers; the record still goes on.
  bool bad_value(const Metric& m, std::string_view value) {
    bump(*errors_);
    log::warn_once(id_ + ":value:" + m.family->name(),
                   "[" + id_ + "] prometheus: failed to instrument a metric: " + m.family->name() + " takes numbers, got " +
                       log::quote_excerpt(value, 80));
    return false;
  }

  void update(const Metric& m, double value) {
    if (!m.family->update(labels_, value)) {
      bump(*errors_);
      log::warn_once(id_ + ":series:" + m.family->name(),
                     "[" + id_ + "] " + m.family->name() + " has " + std::to_string(Family::kMaxSeries) +
                         " series: new label values are not counted");
    }
  }

  std::string id_;
  Counter* errors_;
  std::vector<Metric> metrics_;
  prometheus::Placeholders placeholders_;
  std::string labels_, text_;
  LabelValue::Scratch scratch_;
};

class PrometheusFilter : public Filter {
 public:
  PrometheusFilter(PluginContext& ctx, const Params& p) : instrument_(ctx, p) {}
  void filter(Batch& batch) override { instrument_.instrument(batch); }

 private:
  Instrument instrument_;
};

class PrometheusOutput : public Output {
 public:
  PrometheusOutput(PluginContext& ctx, const Params& p) : instrument_(ctx, p) {}
  void write(const Batch& batch) override { instrument_.instrument(batch); }

 private:
  Instrument instrument_;
};

PluginSpec plugin_spec(const char* kind, const char* doc) {
  PluginSpec s{kind, "prometheus", doc, {}, {"metric", "labels"}};
  if (std::string_view(kind) == "output") s.sections.push_back("buffer");
  return s;
}

}  // namespace

void register_filter_prometheus(Registry& registry) {
  registry.add_filter(plugin_spec("filter", "Counts, sets or observes <metric>s from each record for `<source> @type "
                                     "prometheus` (fluent-plugin-prometheus); records pass unchanged."),
                      [](PluginContext& ctx, const Params& p) { return std::make_unique<PrometheusFilter>(ctx, p); });
  registry.add_output(plugin_spec("output", "Counts, sets or observes <metric>s from each record, then drops it "
                                     "(fluent-plugin-prometheus's output)."),
                      [](PluginContext& ctx, const Params& p) { return std::make_unique<PrometheusOutput>(ctx, p); });
}

}  // namespace sluice

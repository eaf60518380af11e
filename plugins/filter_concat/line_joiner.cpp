#include "line_joiner.h"

#include "core/delivery.h"
#include "core/log.h"
#include "core/uv_handle.h"
#include "format/line_format.h"

namespace sluice::concat {

namespace {
// Stream identities come from record values: a bound on how many groups may be held at once.
// A record that would open one more passes unjoined.
constexpr size_t kMaxGroups = 10000;

uint64_t monotonic_ms() { return uv_hrtime() / 1000000; }
}  // namespace

void LineJoiner::OwnedField::keep(const Field& f) {
  key.assign(f.key);
  value = f.value;
  text.assign(f.value.text);
  packed.assign(f.value.packed);
}

Field LineJoiner::OwnedField::view() const {
  Field f{key, value};
  f.value.text = text;
  f.value.packed = packed;
  return f;
}

LineJoiner::LineJoiner(const PluginContext& ctx, JoinSettings s)
    : s_(std::move(s)), id_(ctx.id), loop_(ctx.loop), route_(ctx.emitter), labels_(ctx.label_emitter),
      dry_run_(ctx.dry_run) {
  auto compile = [&](const std::string& pattern, const char* name, std::unique_ptr<parsers::RubyRegex>& re,
                     std::unique_ptr<parsers::RubyRegex::Matcher>& m) {
    if (pattern.empty()) return;
    try {
      re = std::make_unique<parsers::RubyRegex>(pattern);
    } catch (const std::invalid_argument& e) {
      throw ConfigException(ctx.section ? ctx.section->param(name)->pos : SourcePos{},
                            std::string("concat: invalid ") + name + ": " + e.what());
    }
    m = std::make_unique<parsers::RubyRegex::Matcher>(*re);
  };
  compile(s_.start_regexp, "multiline_start_regexp", start_, start_m_);
  compile(s_.end_regexp, "multiline_end_regexp", end_, end_m_);
  compile(s_.continuous_regexp, "continuous_line_regexp", continuous_, continuous_m_);
  if (ctx.metrics) timeouts_ = &ctx.counter("sluice_concat_timeout_flushes_total");
}

LineJoiner::~LineJoiner() { close_uv_handle(timer_); }

void LineJoiner::start() {
  if (dry_run_ || !loop_ || s_.flush_interval <= 0) return;
  timer_ = new_uv_handle<uv_timer_t>(this);
  uv_timer_init(loop_, timer_);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  uv_timer_start(timer_, [](uv_timer_t* t) {
    if (auto* self = static_cast<LineJoiner*>(t->data)) self->flush_idle(monotonic_ms());
  }, 1000, 1000);
}

void LineJoiner::stop() {
  close_uv_handle(timer_);
  if (busy_) return;
  busy_ = true;
  // concat's flush_remaining_buffer: each group with its first line's time.
  while (!groups_.empty()) flush_alone(groups_.begin()->second, true, "Flush remaining buffer");
  busy_ = false;
}

void LineJoiner::flush_idle(uint64_t now_ms) {
  if (busy_) return;
  busy_ = true;
  const uint64_t idle = static_cast<uint64_t>(s_.flush_interval * 1000);
  idle_.clear();
  for (auto& [identity, g] : groups_)
    if (now_ms - g.last_ms >= idle) idle_.push_back(identity);
  for (const std::string& identity : idle_) {
    auto it = groups_.find(identity);
    if (it != groups_.end()) flush_alone(it->second, s_.use_first_timestamp, "Timeout flush");
  }
  busy_ = false;
}

void LineJoiner::filter(Batch& b) {
  if (busy_ || std::string_view(b.tag).substr(0, 7) == "fluent.") return;
  busy_ = true;
  size_t kept = 0;
  for (size_t i = 0; i < b.records.size(); ++i) {
    const Record r = b.records[i];
    const Value* v = b.find(r, s_.key);
    bool held = false;
    if (v) {
      std::string_view text;
      if (v->kind == ValueKind::String) {
        text = v->text;
      } else {
        text_.clear();
        append_ruby_to_s(text_, *v);
        text = text_;
      }
      held = process(b, r, text);
    }
    if (!held) b.records[kept++] = r;
  }
  b.records.resize(kept);
  busy_ = false;
}

LineJoiner::Group* LineJoiner::group_for(const Batch& b, const Record& r) {
  identity_.assign(b.tag);
  identity_ += ':';
  if (s_.stream_identity_key.empty()) {
    identity_ += "default";
  } else if (const Value* v = b.find(r, s_.stream_identity_key)) {
    append_ruby_to_s(identity_, *v);
  }
  auto it = groups_.find(identity_);
  return it == groups_.end() ? nullptr : &it->second;
}

// concat's process_line / process_regexp for one record. True when the record was taken.
bool LineJoiner::process(Batch& b, const Record& r, std::string_view text) {
  Group* g = group_for(b, r);
  if (!g && groups_.size() >= kMaxGroups) {
    log::warn_once("concat_groups/" + id_, "[" + id_ + "] more than " + std::to_string(kMaxGroups) +
                                               " streams hold lines; records of new ones pass unjoined");
    return false;
  }
  auto open = [&]() -> Group& {
    Group& n = groups_[identity_];
    n = Group{};
    n.identity = identity_;
    return n;
  };
  if (g && g->joined.size() + s_.separator.size() + text.size() > s_.buffer_limit_size) {
    // Bounded as concat's buffer_limit_size bounds partial groups: what is held goes now.
    flush_into(*g, b, r);
    g = nullptr;
  }
  if (s_.n_lines > 0) {
    Group& grp = g ? *g : open();
    append(grp, b, r, text);
    if (static_cast<int64_t>(grp.lines) >= s_.n_lines) flush_into(grp, b, r);
    return true;
  }
  const bool first = start_m_ && start_m_->search(text);
  const bool last = end_m_ && end_m_->search(text);
  if (first) {
    if (g) {
      flush_into(*g, b, r);  // the next group's first line ends the previous one
      g = nullptr;
    }
    if (last) return false;  // a group of one line is the record itself
    append(open(), b, r, text);
    return true;
  }
  if (last) {
    if (!g) return false;
    append(*g, b, r, text);
    flush_into(*g, b, r);
    return true;
  }
  if (!g) {
    if (start_m_) return false;  // not inside a group
    append(open(), b, r, text);   // only an end regexp: every line opens a group
    return true;
  }
  if (!continuous_m_ || continuous_m_->search(text)) {
    append(*g, b, r, text);
    return true;
  }
  flush_into(*g, b, r);
  return false;
}

void LineJoiner::append(Group& g, const Batch& b, const Record& r, std::string_view text) {
  if (g.lines == 0) {
    g.tag.assign(b.tag);
    g.stream_id.assign(b.stream_id);
    g.source_path.assign(b.source_path);
    g.first_time = r.time;
    g.first_offset = r.offset;
    g.fields.clear();
    for (const Field* f = b.begin(r); f != b.end(r); ++f) g.fields.emplace_back().keep(*f);
    g.own = g.fields.size();
    for (const Field& f : b.common_fields) g.fields.emplace_back().keep(f);
  } else {
    g.joined += s_.separator;
  }
  g.joined.append(text);
  ++g.lines;
  g.last_ms = monotonic_ms();
  if (b.claim && (g.claims.empty() || g.claims.back() != b.claim)) {
    b.claim->retain();
    g.claims.push_back(b.claim);
  }
}

void LineJoiner::flush_into(Group& g, const Batch& b, const Record& current) {
  out_.clear();
  out_.begin_record(s_.use_first_timestamp ? g.first_time : current.time, g.first_offset);
  // current.merge(first.merge(key => joined)): current's keys in its order, the first record's
  // values where it has the key, then the first record's other keys.
  auto first_value = [&](std::string_view key) -> const OwnedField* {
    for (size_t i = 0; i < g.own; ++i)
      if (g.fields[i].key == key) return &g.fields[i];
    return nullptr;
  };
  Value joined = Value::of_string(g.joined);
  for (const Field* f = b.begin(current); f != b.end(current); ++f) {
    if (f->key == s_.key) out_.add_field(f->key, joined);
    else if (const OwnedField* o = first_value(f->key)) out_.add_field(f->key, o->view().value);
    else out_.add_field(f->key, f->value);
  }
  for (size_t i = 0; i < g.own; ++i) {
    const OwnedField& o = g.fields[i];
    bool in_current = false;
    for (const Field* f = b.begin(current); f != b.end(current) && !in_current; ++f) in_current = f->key == o.key;
    if (!in_current) out_.add_field(o.key, o.key == s_.key ? joined : o.view().value);
  }
  out_.common_fields = b.common_fields;
  send(g, false);
}

void LineJoiner::flush_alone(Group& g, bool first_time, const std::string& why) {
  out_.clear();
  out_.begin_record(first_time ? g.first_time : now(), g.first_offset);
  Value joined = Value::of_string(g.joined);
  for (size_t i = 0; i < g.fields.size(); ++i) {
    Field f = g.fields[i].view();
    if (f.key == s_.key && i < g.own) f.value = joined;
    if (i < g.own) out_.add_field(f.key, f.value);
    else out_.common_fields.push_back(f);
  }
  if (timeouts_) bump(*timeouts_);
  log::info("[" + id_ + "] " + why + ": " + g.tag + (s_.stream_identity_key.empty() ? "" : " (a stream of it)"));
  send(g, true);
}

void LineJoiner::send(Group& g, bool timed_out) {
  out_.tag = g.tag;
  out_.stream_id = g.stream_id;
  out_.source_path = g.source_path;
  out_.claim = g.claims.empty() ? nullptr : g.claims.front();
  Emitter* label = nullptr;
  if (timed_out && labels_) label = labels_(s_.timeout_label.empty() ? "@ERROR" : s_.timeout_label);
  if (label) label->emit(out_);
  else if (route_) route_->emit_after(this, out_);
  // The outputs hold the oldest claim now if they keep the record; the group lets go of all.
  std::vector<Claim*> claims = std::move(g.claims);
  std::string identity = std::move(g.identity);
  groups_.erase(identity);
  for (Claim* c : claims) c->release();
}

}  // namespace sluice::concat

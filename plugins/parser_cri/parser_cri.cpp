#include "parser_cri.h"

#include <algorithm>
#include <bit>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>

#include "core/registry.h"

namespace sluice {
namespace parsers {

namespace {

// One stream's (stdout/stderr) held partial fragments.
struct Pending {
  std::string stream;      // the stream token
  std::string message;     // fragments joined so far (capacity reused)
  std::string first_time;  // the first fragment's time string
  EventTime last_time;     // the last fragment's event time
  uint64_t first_offset = 0;
  bool active = false;
};

struct CriLine {
  std::string_view time, stream, tag, message;
  bool plain_stream = false;  // stdout or stderr, seen in place
};

// Little-endian 8-byte load (the bytes in reading order from the low end).
uint64_t load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native != std::endian::little) w = __builtin_bswap64(w);
  return w;
}

constexpr uint64_t word7(std::string_view s) {
  uint64_t w = 0;
  for (size_t i = 7; i-- > 0;) w = w << 8 | static_cast<unsigned char>(s[i]);
  return w;
}

#if !defined(__SSE2__)
// Flags (the high bit of) the space bytes of a word; only the lowest flag is exact (borrows run
// upwards), which is all find_space needs.
uint64_t spaces(uint64_t w) {
  const uint64_t x = w ^ 0x2020202020202020ull;  // spaces become zero bytes
  return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}
#endif

// The first space in [p, end), or null. The search usually crosses only the time stamp (20-35
// bytes): two 16-byte compares (four words without SSE2) cost less than a call to memchr. A
// longer search goes to memchr.
const char* find_space(const char* p, const char* end) {
#if defined(__SSE2__)
  if (end - p >= 32) {
    const __m128i space = _mm_set1_epi8(' ');
    const unsigned lo = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), space)));
    const unsigned hi = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), space)));
    if (const unsigned m = lo | hi << 16) return p + std::countr_zero(m);
    p += 32;
  }
#else
  if (end - p >= 32) {
    const uint64_t z0 = spaces(load8(p)), z1 = spaces(load8(p + 8)), z2 = spaces(load8(p + 16)),
                   z3 = spaces(load8(p + 24));
    if (z0 | z1 | z2 | z3) {
      if (z0) return p + (std::countr_zero(z0) >> 3);
      if (z1) return p + 8 + (std::countr_zero(z1) >> 3);
      if (z2) return p + 16 + (std::countr_zero(z2) >> 3);
      return p + 24 + (std::countr_zero(z3) >> 3);
    }
    p += 32;
  }
#endif
  return static_cast<const char*>(std::memchr(p, ' ', static_cast<size_t>(end - p)));
}

// Splits `<time> <stream> <tag> <message>` on single spaces. The message keeps its leading
// whitespace (Fluentd's awk-style split(" ", 4) would drop it; see README). A line ending right
// after the tag (no space) has an empty message.
bool split_cri(std::string_view s, CriLine& out) {
  const char* p = s.data();
  const char* end = p + s.size();
  const char* sp1 = find_space(p, end);
  if (!sp1 || sp1 == p) return false;
  const char* q = sp1 + 1;
  // The stream is nearly always stdout or stderr and the tag one letter (F or P): checked in
  // place, with the general search for anything else.
  const char* sp2;
  out.plain_stream = end - q >= 8 && ((load8(q) & 0x00ffffffffffffffull) == word7("stdout ") ||
                                      (load8(q) & 0x00ffffffffffffffull) == word7("stderr "));
  if (out.plain_stream)
    sp2 = q + 6;
  else
    sp2 = static_cast<const char*>(std::memchr(q, ' ', static_cast<size_t>(end - q)));
  if (!sp2 || sp2 == q) return false;
  const char* r = sp2 + 1;
  const char* sp3;
  if (end - r >= 2 && r[0] != ' ' && r[1] == ' ')
    sp3 = r + 1;
  else
    sp3 = static_cast<const char*>(std::memchr(r, ' ', static_cast<size_t>(end - r)));
  const char* tag_end = sp3 ? sp3 : end;
  if (tag_end == r) return false;
  out.time = {p, static_cast<size_t>(sp1 - p)};
  out.stream = {q, static_cast<size_t>(sp2 - q)};
  out.tag = {r, static_cast<size_t>(tag_end - r)};
  out.message = sp3 ? std::string_view(sp3 + 1, static_cast<size_t>(end - sp3 - 1)) : std::string_view();
  return true;
}

class CriParser final : public Parser {
 public:
  CriParser(CriPlugin& plugin, std::string_view stream_name)
      : plugin_(plugin),
        opts_(plugin.options()),
        stream_name_(stream_name),
        nested_(plugin.sub_parser() != nullptr),
        time_key_(opts_.time.keep ? std::string_view(opts_.time.key) : std::string_view()),
        plain_time_(opts_.time.rfc3339_fast) {}

  void parse(std::span<const Line> lines, Batch& out) override {
    for (const Line& line : lines) parse_line(line, out);
  }

  void flush(Batch& out) override {
    for (Pending& p : pending_)
      if (p.active) emit_pending(p, out, "P", false);
    // A nested parser (multiline) may hold a group of its own.
    for (auto& [stream, sub] : subs_) sub->flush(out);
  }

  uint64_t held_from() const override {
    uint64_t m = UINT64_MAX;
    for (const Pending& p : pending_)
      if (p.active && p.first_offset < m) m = p.first_offset;
    for (auto& [stream, sub] : subs_) m = std::min(m, sub->held_from());
    return m;
  }

 private:
  // Inlined into parse's loop, as is emit: the common line costs about as much as a call's
  // register saving and argument passing would. Rarer cases are out of line.
  [[gnu::always_inline]] void parse_line(const Line& line, Batch& out) {
    CriLine c;
    if (!split_cri(line.bytes, c)) {
      keep_invalid(out, line);
      return;
    }
    EventTime t;
    if (!opts_.time.parse(c.time, t)) {
      keep_invalid_time(out, line, c.time);
      return;
    }
    if (opts_.merge_partial && (held_ > 0 || is_partial(c.tag))) {
      merge(out, line, c, t);
      return;
    }
    emit(out, t, line.offset, c.stream, c.plain_stream, c.tag, c.message, c.time, false);
  }

  static bool is_partial(std::string_view tag) {
    return tag.size() >= 1 && tag[0] == 'P' && (tag.size() == 1 || tag[1] == ':');
  }

  [[gnu::cold]] void keep_invalid(Batch& out, const Line& line) {
    plugin_.errors().keep_raw(out, line, "format",
                              "invalid CRI line (expected '<time> <stream> <P|F> <message>')");
  }

  [[gnu::cold]] void keep_invalid_time(Batch& out, const Line& line, std::string_view time) {
    std::string reason = "invalid time format: value = ";
    reason.append(time.substr(0, 64));
    plugin_.errors().keep_raw(out, line, "time", reason);
  }

  // merge_cri_partial: a P line is held with its stream's earlier ones; an F line ends what its
  // stream holds. c by value: a reference would keep every line's split in memory for this rare
  // call.
  [[gnu::noinline]] void merge(Batch& out, const Line& line, CriLine c, EventTime t) {
    if (is_partial(c.tag)) {
      Pending* p = find(c.stream);
      if (!p) p = &add(c.stream);
      if (p->active && p->message.size() + c.message.size() > opts_.max_partial_size) {
        // Bounded: emit what was collected, marked, and start again with this fragment.
        emit_pending(*p, out, "P", true);
      }
      if (!p->active) {
        p->active = true;
        ++held_;
        p->first_offset = line.offset;
        p->first_time.assign(c.time);
        p->message.clear();
      }
      p->message.append(c.message);
      p->last_time = t;
      return;
    }
    if (Pending* p = find_active(c.stream)) {
      // The final fragment: one record, message joined in the arena, logtag F, event time of
      // this (last) fragment and `time` string of the first (as fluent-plugin-concat does).
      std::string_view msg = out.arena.concat(p->message, c.message);
      std::string_view first_time = out.arena.copy(p->first_time);
      uint64_t off = p->first_offset;
      p->active = false;
      --held_;
      p->message.clear();
      emit(out, t, off, c.stream, c.plain_stream, c.tag, msg, first_time, false);
      return;
    }
    emit(out, t, line.offset, c.stream, c.plain_stream, c.tag, c.message, c.time, false);
  }

  // plain_stream: the stream is stdout or stderr. A one-letter F or P tag and a time stamp the
  // RFC 3339 parser accepted hold nothing to escape either (Value::plain).
  [[gnu::always_inline]] void emit(Batch& out, EventTime t, uint64_t offset, std::string_view stream,
                                   bool plain_stream, std::string_view tag, std::string_view message,
                                   std::string_view time_text, bool truncated) {
    if (nested_) {
      emit_nested(out, offset, stream, tag, message, truncated);
      return;
    }
    using namespace std::literals;
    out.begin_record(t, offset);
    const bool plain_tag = tag.size() == 1 && (tag[0] == 'F' || tag[0] == 'P');
    out.add_field("stream"sv, Value::of_string(stream, plain_stream));
    out.add_field("logtag"sv, Value::of_string(tag, plain_tag));
    out.add_field("message"sv, Value::of_string(message));
    if (!time_key_.empty()) out.add_field(time_key_, Value::of_string(time_text, plain_time_));
    if (truncated) out.add_field("_partial_truncated"sv, Value::of_bool(true));
  }

  // Nested <parse>: the message is parsed by the sub parser (one per CRI stream, so stdout and
  // stderr lines never join one multiline group); stream/logtag are merged in.
  void emit_nested(Batch& out, uint64_t offset, std::string_view stream, std::string_view tag,
                   std::string_view message, bool truncated) {
    size_t before = out.records.size();
    Line l{message, offset};
    sub_for(stream).parse(std::span<const Line>(&l, 1), out);
    if (out.records.size() > before && opts_.merge_cri_fields) {
      // Fields of the last record(s) are contiguous at the end: add to the last one.
      out.add_field("stream", Value::of_string(stream));
      out.add_field("logtag", Value::of_string(tag));
    }
    if (truncated && out.records.size() > before) out.add_field("_partial_truncated", Value::of_bool(true));
  }

  void emit_pending(Pending& p, Batch& out, std::string_view tag, bool truncated) {
    std::string_view msg = out.arena.copy(p.message);
    std::string_view stream = out.arena.copy(p.stream);
    std::string_view time_text = out.arena.copy(p.first_time);
    std::string_view tag_text = tag == "P" ? std::string_view("P") : std::string_view("F");
    if (truncated && plugin_.truncated_counter()) bump(*plugin_.truncated_counter());
    p.active = false;
    --held_;
    p.message.clear();
    const bool plain_stream = stream == "stdout" || stream == "stderr";
    emit(out, p.last_time, p.first_offset, stream, plain_stream, tag_text, msg, time_text, truncated);
  }

  Pending* find(std::string_view stream) {
    for (Pending& p : pending_)
      if (p.stream == stream) return &p;
    return nullptr;
  }
  Pending* find_active(std::string_view stream) {
    for (Pending& p : pending_)
      if (p.active && p.stream == stream) return &p;
    return nullptr;
  }
  Pending& add(std::string_view stream) {
    pending_.emplace_back();
    pending_.back().stream.assign(stream);
    return pending_.back();
  }

  Parser& sub_for(std::string_view stream) {
    for (auto& [name, sub] : subs_)
      if (name == stream) return *sub;
    subs_.emplace_back(std::string(stream), plugin_.sub_parser()->open_stream(stream_name_));
    return *subs_.back().second;
  }

  CriPlugin& plugin_;
  const CriOptions& opts_;
  std::string stream_name_;
  const bool nested_;                // a nested <parse>
  const std::string_view time_key_;  // empty: the time string is not kept
  const bool plain_time_;            // a time stamp parsed is plain (parse_rfc3339 checked it)
  std::vector<Pending> pending_;     // usually stdout and stderr
  size_t held_ = 0;                  // active entries of pending_
  std::vector<std::pair<std::string, std::unique_ptr<Parser>>> subs_;
};

}  // namespace

CriPlugin::CriPlugin(PluginContext& ctx, const Params& params) : errors_(ctx, "cri") {
  options_.time.configure(params);
  options_.merge_partial = params.flag("merge_cri_partial");
  options_.max_partial_size = params.size("max_partial_size");
  options_.merge_cri_fields = params.flag("merge_cri_fields");
  if (ctx.metrics)
    truncated_ = &ctx.metrics->counter("sluice_partial_truncated_total{plugin=\"" + ctx.id + "\"}");
  if (const ConfigSection* sub = params.section().child("parse")) sub_ = ctx.make_parser(sub, "none");
}

CriPlugin::CriPlugin(PluginContext& ctx, CriOptions options, std::string type_name)
    : options_(std::move(options)), errors_(ctx, std::move(type_name)) {
  if (ctx.metrics)
    truncated_ = &ctx.metrics->counter("sluice_partial_truncated_total{plugin=\"" + ctx.id + "\"}");
}

std::unique_ptr<Parser> CriPlugin::open_stream(std::string_view stream_name) {
  return std::make_unique<CriParser>(*this, stream_name);
}

PluginSpec cri_spec() {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = "cri";
  spec.doc = "CRI container log lines `<time> <stream> <P|F> <message>` (fluent-plugin-parser-cri), "
             "joining P partial lines per stream into one record.";
  BaseDefaults d;
  d.time_key = "time";
  d.time_format = "%Y-%m-%dT%H:%M:%S.%L%z";
  d.keep_time_key = true;
  add_base_params(spec, d);
  auto add = [&](std::string name, ParamType type, std::string def, std::string doc) {
    ParamSpec p;
    p.name = std::move(name);
    p.type = type;
    p.default_value = std::move(def);
    p.doc = std::move(doc);
    spec.params.push_back(std::move(p));
  };
  add("merge_cri_partial", ParamType::Bool, "true",
      "Join P (partial) lines with the following lines of the same stream until an F line (sluice extension; "
      "Fluentd emits each P line as its own record).");
  add("max_partial_size", ParamType::Size, "1m",
      "Bound on a joined message; beyond it the collected part is emitted with _partial_truncated true.");
  add("merge_cri_fields", ParamType::Bool, "true", "With a nested <parse>: add stream and logtag to its record.");
  spec.sections = {"parse"};
  return spec;
}

}  // namespace parsers

void register_parser_cri(Registry& registry) {
  registry.add_parser(parsers::cri_spec(), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::CriPlugin>(ctx, params);
  });
}

}  // namespace sluice

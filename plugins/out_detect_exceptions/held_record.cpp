#include "held_record.h"

namespace sluice::detect_exceptions {

namespace {
constexpr size_t kKeptCapacity = 64 * 1024;

size_t bytes_of(const Field& f) { return f.key.size() + f.value.text.size() + f.value.packed.size(); }
}  // namespace

void HeldRecord::keep(const Batch& batch, const Record& record) {
  size_t total = 0;
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) total += bytes_of(*f);
  for (const Field& f : batch.common_fields) total += bytes_of(f);
  bytes_.clear();
  // Reserved up front: the views below stay valid while bytes_ is appended to.
  bytes_.reserve(total);
  auto copy = [this](std::string_view s) {
    const size_t at = bytes_.size();
    bytes_.append(s);
    return std::string_view(bytes_.data() + at, s.size());
  };
  auto keep_field = [&](const Field& f, std::vector<Field>& into) {
    Field& kept = into.emplace_back(f);
    kept.key = copy(f.key);
    kept.value.text = copy(f.value.text);
    kept.value.packed = copy(f.value.packed);
  };
  own_.clear();
  common_.clear();
  for (const Field* f = batch.begin(record); f != batch.end(record); ++f) keep_field(*f, own_);
  for (const Field& f : batch.common_fields) keep_field(f, common_);
  record_ = record;
  stream_id_.assign(batch.stream_id);
  source_path_.assign(batch.source_path);
}

void HeldRecord::append_to(Batch& out, std::string_view message_key, const Value* message) const {
  out.begin_record(record_.time, record_.offset);
  for (const Field& f : own_) out.add_field(f.key, message && f.key == message_key ? *message : f.value);
  out.common_fields = common_;
  out.stream_id = stream_id_;
  out.source_path = source_path_;
}

void HeldRecord::trim() {
  if (bytes_.capacity() > kKeptCapacity) std::string().swap(bytes_);
}

}  // namespace sluice::detect_exceptions

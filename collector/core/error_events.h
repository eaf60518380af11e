// Records a filter takes out of the stream because processing them raised (Fluentd's
// router.emit_error_event): collected per batch, then emitted to the @ERROR label, or, when the
// configuration has none, dropped with a warning said once per kind of error.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/log.h"
#include "core/plugin.h"

namespace sluice {

class ErrorEvents {
 public:
  using Labels = std::function<Emitter*(const std::string&)>;

  ErrorEvents() = default;
  ErrorEvents(std::string plugin_id, Labels labels)
      : id_(std::move(plugin_id)), labels_(std::move(labels)) {}

  void clear() {
    batch_.records.clear();
    batch_.fields.clear();
    reason_.clear();
  }
  bool empty() const { return batch_.records.empty(); }
  size_t size() const { return batch_.records.size(); }
  const Batch& batch() const { return batch_; }

  // Adds a record made of `own` then those of `common` whose key is not among `own`'s.
  // `reason` (Ruby's error message) is what the warning says when there is no @ERROR label.
  void add(const Record& from, std::span<const Field> own, std::span<const Field> common,
           std::string_view reason) {
    if (batch_.records.empty()) reason_ = std::string(reason);
    batch_.begin_record(from.time, from.offset);
    for (const Field& f : own) batch_.add_field(f.key, f.value);
    for (const Field& c : common) {
      bool shadowed = false;
      for (const Field& f : own)
        if (f.key == c.key) {
          shadowed = true;
          break;
        }
      if (!shadowed) batch_.add_field(c.key, c.value);
    }
  }

  // Emits what was added with `from`'s tag and origin. Call before `from`'s bytes change.
  void send(const Batch& from) {
    if (batch_.records.empty()) return;
    Emitter* label = labels_ ? labels_("@ERROR") : nullptr;
    if (!label) {
      log::warn_once(id_ + "/error_event/" + reason_,
                     "[" + id_ + "] " + reason_ + " (tag " + log::quote_excerpt(from.tag) +
                         "); the record is dropped, there is no @ERROR label to send it to (" +
                         std::to_string(batch_.records.size()) +
                         " in this batch; said once per error)");
      return;
    }
    batch_.tag = from.tag;
    batch_.take_origin(from);
    label->emit(batch_);
  }

 private:
  std::string id_;
  Labels labels_;
  Batch batch_;
  std::string reason_;
};

}  // namespace sluice

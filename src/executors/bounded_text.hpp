// Private to the executors: output kept up to a byte bound, the way receipts store it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <wakeplane/executor.hpp>

namespace wakeplane::executors::detail {

/// Text kept up to `limit` bytes: the first bytes survive, anything beyond only sets the
/// truncated mark (DECISIONS 19). Keeping the head, not the tail, matches what a reader of a
/// receipt expects to see first and never needs a copy once the bound is reached.
class bounded_text {
public:
    explicit bounded_text(std::size_t limit) : limit_(limit) {}

    /// Appends what still fits; returns false when some of `data` had to be dropped.
    bool append(std::string_view data) {
        const std::size_t room = limit_ - text_.size();
        if (data.size() <= room) {
            text_.append(data);
            return true;
        }
        text_.append(data.substr(0, room));
        truncated_ = true;
        return false;
    }

    [[nodiscard]] bool truncated() const noexcept { return truncated_; }
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

    /// Moves the kept text into a receipt of `kind`.
    [[nodiscard]] receipt_body into_receipt(std::string kind, std::string content_type) && {
        return receipt_body{std::move(kind), std::move(content_type), std::move(text_), truncated_};
    }

private:
    std::size_t limit_;
    std::string text_;
    bool truncated_ = false;
};

}  // namespace wakeplane::executors::detail

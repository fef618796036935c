// Rebuilding a projection from the ledger alone.
#pragma once

#include <cstddef>
#include <variant>

#include <wakeplane/store.hpp>

namespace wakeplane {

namespace detail {

/// Replays a planner pass's move of `e.schedule`'s next_run_at.
template <class Transaction>
result<void> replay_next_run(Transaction& tx, const ledger_event& e, const next_run_change& change) {
    auto before = tx.load_schedule(e.schedule);
    if (!before) {
        return tl::unexpected(before.error());
    }
    if (!*before) {
        return fail(errc::storage, "replay: event " + std::to_string(e.seq) + " plans schedule " + e.schedule +
                                       ", which does not exist");
    }
    schedule next = **before;
    next.next_run_at = change.next_run_at;
    return tx.put_schedule(next, *before);
}

}  // namespace detail

/// Replays `source`'s ledger from sequence 1 into the empty backend `target`: every event's
/// payload (the row after the change) is written, and the event itself appended, in chunks of
/// `chunk` events per transaction. Since every state change is an event carrying its row, the
/// target ends with the same schedules, runs, receipts, dead letters and ledger as the source.
template <class SourceStore, store_backend Target>
result<std::int64_t> replay_ledger(SourceStore& source, Target& target, std::size_t chunk = 512) {
    std::int64_t after = 0;
    for (;;) {
        auto events = source.read_ledger(ledger_query{after, chunk, std::nullopt, std::nullopt});
        if (!events) {
            return tl::unexpected(events.error());
        }
        if (events->empty()) {
            return after;
        }
        auto tx = target.begin();
        if (!tx) {
            return tl::unexpected(tx.error());
        }
        for (const auto& e : *events) {
            auto applied = std::visit(
                [&](const auto& p) -> result<void> {
                    using P = std::decay_t<decltype(p)>;
                    if constexpr (std::is_same_v<P, schedule>) {
                        auto before = tx->load_schedule(p.id);
                        return before ? tx->put_schedule(p, *before) : result<void>{tl::unexpected(before.error())};
                    } else if constexpr (std::is_same_v<P, run_change>) {
                        auto before = tx->load_run(p.row.id);
                        if (!before) {
                            return tl::unexpected(before.error());
                        }
                        if (*before) {
                            if (auto put = tx->put_run(p.row, **before); !put) {
                                return put;
                            }
                        } else if (auto ins = tx->insert_run(p.row); !ins || !*ins) {
                            return ins ? fail(errc::storage, "replay: run " + p.row.id + " collides")
                                       : result<void>{tl::unexpected(ins.error())};
                        }
                        for (const auto& rc : p.receipts) {
                            if (auto put = tx->put_receipt(rc); !put) {
                                return put;
                            }
                        }
                        if (p.schedule_after) {
                            auto sb = tx->load_schedule(p.schedule_after->id);
                            return sb ? tx->put_schedule(*p.schedule_after, *sb)
                                      : result<void>{tl::unexpected(sb.error())};
                        }
                        if (p.last_run_at) {
                            auto moved = tx->advance_last_run_at(e.schedule, *p.last_run_at);
                            if (!moved || !*moved) {
                                return moved ? fail(errc::storage, "replay: event " + std::to_string(e.seq) +
                                                                       " cannot advance last_run_at of " + e.schedule)
                                             : result<void>{tl::unexpected(moved.error())};
                            }
                        }
                        return p.next_run ? detail::replay_next_run(*tx, e, *p.next_run) : result<void>{};
                    } else if constexpr (std::is_same_v<P, next_run_change>) {
                        return detail::replay_next_run(*tx, e, p);
                    } else if constexpr (std::is_same_v<P, dead_letter>) {
                        return tx->put_dead_letter(p);
                    } else {
                        return {};  // summaries and bare events change no row
                    }
                },
                e.payload);
            if (!applied) {
                return tl::unexpected(applied.error());
            }
            if (auto a = tx->append(e); !a) {
                return tl::unexpected(a.error());
            }
            after = e.seq;
        }
        if (auto c = tx->commit(); !c) {
            return tl::unexpected(c.error());
        }
    }
}

}  // namespace wakeplane

// Package stv counts single transferable vote elections under two published
// rule sets, as a pure function of the ballots, the number of seats, the
// withdrawn candidates and a lot order ([Count]), so that anyone holding the
// decrypted ballots can re-run the count and get the same result, stage by
// stage (docs/protocol.md §9.7).
//
// # Rules
//
// [ERS97] implements sections 5.1–5.6 of the Electoral Reform Society's
// "How to conduct an election by the Single Transferable Vote", 3rd edition
// (1997): votes in hundredths; quota = total valid vote / (seats + 1) taken
// to two places, plus 0.01 unless exact (5.1.6), lowered while no one is
// elected when papers become non-transferable (5.4.8); candidates deemed
// elected at the quota or at the total active vote divided by one more than
// the places unfilled (5.1.7, 5.3.13, 5.4.9); the largest surplus first, from
// the last batch received (5.3.1, 5.3.2), at the surplus divided by the
// transferable papers to two places (5.3.7), the neglected remainder
// non-transferable; surpluses deferred while they cannot change the order of
// the lowest candidates (5.2.2); bulk exclusion of the lowest candidates
// whose votes with the surpluses do not exceed the next (5.2.5); exclusions
// transferred batch by batch in descending order of transfer value, with
// elections after every batch (5.4); the count ends when the places are
// filled or as many candidates continue as places remain (5.5).
//
// [Meek] implements the Proportional Representation Foundation's Reference
// Meek Rule (Meek's method as in Hill, Wichmann and Woodall, "Algorithm 123 —
// Single Transferable Vote by Meek's method", Computer Journal 30(3), 1987):
// fixed-point decimal arithmetic to 9 places; each ballot gives each
// candidate in turn its remaining weight times the candidate's keep factor,
// rounded up; quota = votes / (seats + 1), truncated, plus 10^-9; keep
// factors updated to kf·quota/vote (each step rounded up) until the total
// surplus is below ω = 10^-6 or stops falling; then the lowest hopeful
// candidate is defeated.
//
// # Ties
//
// ERS97 settles ties by the votes at the first stage or at the earliest
// point, after the transfer of a batch of papers, where the tied candidates
// had unequal votes, and only then by lot (5.2.3 for the order of surpluses,
// 5.2.5 for exclusion); where more candidates with equal votes could be
// deemed elected than places remain, those equal at every point are not
// deemed elected at that stage (5.6.2). Meek's rule breaks a tie for defeat
// (candidates within the total surplus of the lowest vote) by lot.
//
// A lot is drawn once, before the count, as an order of all candidates
// ([Election.Lot]; [LotFromSeed] derives one from a public seed): a tie
// settled by lot chooses the tied candidate drawn first, for whatever the
// rule is choosing (the candidate to exclude, or the surplus to transfer
// first). With no lot order, candidates are drawn in index order, which is
// OpenSTV's "index" and Droop's default tie order.
//
// # Verification against reference counts
//
// The tests compare every stage of these counts with published reference
// counts (crypto/testdata/stv/README.md): Droop's reference records for the
// PR Foundation Meek rule (nine elections, every vote and keep factor to
// the last digit), the Hill–Wichmann–Woodall reference count of the ERS97
// model election, the figures the ERS97 booklet publishes for its model
// election, OpenSTV 1.7's ERS97 counts of ten elections including two real
// Glasgow council wards, and 148 random small elections counted by both
// OpenSTV (ERS97) and Droop (Meek). The one place where OpenSTV departs from
// the ERS97 text (it breaks a 5.6.2 equality by candidate index) is
// documented in the tests; this package follows the text.
//
// Ballots are strict rankings (no equal preferences); a paper with no
// preference is invalid and counted as such.
package stv

package issuance

// SetBallotID makes s believe electionID's ballot is id (a stale entry of
// the cache beginAuthorise keeps).
func (s *Service) SetBallotID(electionID string, id int64) {
	s.mu.Lock()
	s.ballotIDs[electionID] = id
	s.mu.Unlock()
}

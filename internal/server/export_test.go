package server

// OnProbeWait calls f whenever a probe of s starts waiting for one of its organisation's slots, so
// tests can tell a waiting probe from one not yet started without sleeping.
func (s *Service) OnProbeWait(f func(orgID string)) {
	s.probes.mu.Lock()
	defer s.probes.mu.Unlock()
	s.probes.onWait = f
}

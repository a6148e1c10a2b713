package service

// OnProbeWait calls f whenever a probe starts waiting for one of its organisation's slots, so tests
// (of this package and of the HTTP layer over it) can tell a waiting probe from one not yet started
// without sleeping. Nothing else sets it.
func (s *Service) OnProbeWait(f func(orgID string)) {
	s.probes.mu.Lock()
	defer s.probes.mu.Unlock()
	s.probes.onWait = f
}

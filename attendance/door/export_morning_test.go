package door

// ExpireNow runs the door's tick once. The morning model test drives the
// door with a fake clock, so minutes pass instantly; Run's ticker runs on
// real time and would make every expiry cost half a second.
func (s *Service) ExpireNow() { s.expire() }

package portal

// Texts exposes the page texts to the tests (package portal_test).
var Texts = texts

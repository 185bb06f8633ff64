package metrics

// minOpenFDs: Wine's GetProcessHandleCount answers 0; Windows counts the
// handles a process holds, never none.
const minOpenFDs = 0

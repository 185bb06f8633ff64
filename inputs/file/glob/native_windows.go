package glob

// Native is the flavour of the running system: Windows paths fold case and accept both separators.
const Native = Windows

"""Modal screens: confirmations, pickers, help, permissions, tool-call detail."""

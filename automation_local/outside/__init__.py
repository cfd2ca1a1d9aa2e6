"""The world outside the stack: stand-ins for Telegram, Perplexity, LinkedIn and target
sites, and what a real account holds beside the stack (secrets, Telegram chats)."""

"""newsbot's Slack layer: slash command, mentions and DMs answered from the index."""

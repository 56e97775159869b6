"""The chatbot: portal widget, Zalo and Messenger webhooks and the Vietnamese dialogue."""

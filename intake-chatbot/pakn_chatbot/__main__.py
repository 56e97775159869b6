"""`python -m pakn_chatbot` runs the chatbot service."""

from pakn_chatbot.app import main

main()

"""The hotline 1900 1023: agents' call console and the phone system's transcript API."""

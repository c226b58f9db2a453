"""The policy pack (`policy/`): its rules run by the real engine on previews of the program, and their edge cases."""

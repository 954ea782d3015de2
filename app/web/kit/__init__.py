"""What every blueprint uses: rendering (page or fragment), outcomes of commands, access
rules and error pages."""

#!/bin/bash
# Placeholder: being written.
exit 77

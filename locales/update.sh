#!/usr/bin/env sh
# Re-extract message ids from the code and merge them into both catalogs (then translate what is new).
set -e
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k t -k plural:1,2 -k N_ --no-wrap --sort-by-file \
    --project twinbot --copyright-holder "twinbot contributors" -o locales/twinbot.pot .
for lang in vi en; do
    if [ -f "locales/$lang/LC_MESSAGES/twinbot.po" ]; then
        pybabel update -D twinbot -i locales/twinbot.pot -d locales -l "$lang" --no-wrap --ignore-obsolete
    else
        pybabel init -D twinbot -i locales/twinbot.pot -d locales -l "$lang" --no-wrap
    fi
done

package sepa

import "strings"

// latinMap folds the letters of Dutch, Flemish, French, German, Turkish,
// Polish and other European names to the SEPA Latin character set
// (EPC217-08: a-z A-Z 0-9 / - ? : ( ) . , ' + and space).
var latinMap = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ą': "a", 'ă': "a",
	'À': "A", 'Á': "A", 'Â': "A", 'Ã': "A", 'Ä': "A", 'Å': "A", 'Ā': "A", 'Ą': "A", 'Ă': "A",
	'æ': "ae", 'Æ': "AE", 'ç': "c", 'ć': "c", 'č': "c", 'Ç': "C", 'Ć': "C", 'Č': "C",
	'ď': "d", 'đ': "d", 'Ď': "D", 'Đ': "D",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e", 'ė': "e",
	'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E", 'Ē': "E", 'Ę': "E", 'Ě': "E", 'Ė': "E",
	'ğ': "g", 'Ğ': "G", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'ı': "i", 'į': "i",
	'Ì': "I", 'Í': "I", 'Î': "I", 'Ï': "I", 'Ī': "I", 'İ': "I", 'Į': "I", 'ĳ': "ij", 'Ĳ': "IJ",
	'ł': "l", 'Ł': "L", 'ľ': "l", 'Ľ': "L", 'ñ': "n", 'ń': "n", 'ň': "n", 'Ñ': "N", 'Ń': "N", 'Ň': "N",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o",
	'Ò': "O", 'Ó': "O", 'Ô': "O", 'Õ': "O", 'Ö': "O", 'Ø': "O", 'Ō': "O", 'Ő': "O", 'œ': "oe", 'Œ': "OE",
	'ř': "r", 'Ř': "R", 'ś': "s", 'š': "s", 'ş': "s", 'ș': "s", 'Ś': "S", 'Š': "S", 'Ş': "S", 'Ș': "S", 'ß': "ss",
	'ť': "t", 'ţ': "t", 'ț': "t", 'Ť': "T", 'Ţ': "T", 'Ț': "T",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'Ù': "U", 'Ú': "U", 'Û': "U", 'Ü': "U", 'Ū': "U", 'Ů': "U", 'Ű': "U", 'Ų': "U",
	'ý': "y", 'ÿ': "y", 'Ý': "Y", 'Ÿ': "Y", 'ź': "z", 'ż': "z", 'ž': "z", 'Ź': "Z", 'Ż': "Z", 'Ž': "Z",
	'&': "+", '’': "'", '‘': "'", '–': "-", '—': "-", '€': "EUR", '_': "-", '"': "'", ';': ",",
}

// Latin reduces s to the SEPA Latin character set: accented letters lose
// their accents, other characters outside the set become spaces, runs of
// spaces collapse and the result is trimmed.
func Latin(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		var out string
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("/-?:().,'+", r):
			out = string(r)
		default:
			out = latinMap[r]
		}
		if out == "" {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(out)
	}
	return b.String()
}

// Fold is r without its accent as Latin spells it ("ğ" gives "g", "Ĳ"
// gives "IJ"), or "" when the table has no spelling for it.
func Fold(r rune) string { return latinMap[r] }

package register

// English is the English text of a message, for the tests.
var English = english
